"""Sign-in throttling: counts per name and per address, the lock's length, and forgetting."""

from bot.agent.throttle import ADDRESS_LIMIT, NAME_LIMIT, SignInThrottle, keys_for


def test_a_name_is_locked_after_five_failures_until_the_oldest_one_expires():
    throttle = SignInThrottle(window=900, failures={})
    keys = keys_for("Agent ", "10.0.0.1")
    for second in range(NAME_LIMIT):
        assert throttle.retry_after(keys, now=1000 + second) == 0
        throttle.failed(keys, now=1000 + second)
    assert throttle.retry_after(keys, now=1010) == 890
    assert throttle.retry_after(keys_for("agent", "10.0.0.2"), now=1010) == 890  # same name
    assert throttle.retry_after(keys_for("supervisor", "10.0.0.1"), now=1010) == 0
    assert throttle.retry_after(keys, now=1899) == 1
    assert throttle.retry_after(keys, now=1900) == 0  # the first failure no longer counts


def test_an_address_trying_many_names_is_locked():
    throttle = SignInThrottle(window=900, failures={})
    for attempt in range(ADDRESS_LIMIT):
        throttle.failed(keys_for(f"name{attempt}", "10.0.0.9"), now=50.0)
    assert throttle.retry_after(keys_for("agent", "10.0.0.9"), now=60.0) == 890
    assert throttle.retry_after(keys_for("agent", "10.0.0.8"), now=60.0) == 0


def test_a_correct_password_clears_the_names_failures():
    throttle = SignInThrottle(failures={})
    keys = keys_for("agent", "10.0.0.1")
    for _ in range(NAME_LIMIT - 1):
        throttle.failed(keys, now=10.0)
    throttle.succeeded("AGENT")
    throttle.failed(keys, now=11.0)
    assert throttle.retry_after(keys, now=12.0) == 0


def test_look_alikes_of_a_locked_name_are_locked_too():
    throttle = SignInThrottle(window=900, failures={})
    for _ in range(NAME_LIMIT):
        throttle.failed(keys_for("agent", "10.0.0.1"), now=100.0)
    for look_alike in ("ａｇｅｎｔ", "AGENT", "a\u200bgent", "\u200dＡｇｅｎｔ "):
        assert throttle.retry_after(keys_for(look_alike, "10.0.0.2"), now=101.0) == 899, look_alike
    throttle.succeeded("ＡＧＥＮＴ")  # the name's own password clears every look-alike
    assert throttle.retry_after(keys_for("ａｇｅｎｔ", "10.0.0.2"), now=102.0) == 0


def test_every_throttle_of_the_process_counts_in_one_table():
    """The console's and the workbench's forms each make one: a name's limit is for both."""
    console, workbench = SignInThrottle(), SignInThrottle()
    keys = keys_for("shared-limit-test", "10.9.9.9")
    try:
        for _ in range(NAME_LIMIT - 2):
            console.failed(keys, now=500.0)
        for _ in range(2):
            workbench.failed(keys_for("ＳＨＡＲＥＤ-ＬＩＭＩＴ-ＴＥＳＴ", "10.9.9.8"), now=501.0)
        assert console.retry_after(keys, now=502.0) == 898
        assert workbench.retry_after(keys_for("shared-limit-test", "10.1.1.1"), now=502.0) == 898
        private = SignInThrottle(failures={})
        assert private.retry_after(keys, now=502.0) == 0
    finally:
        workbench.succeeded("shared-limit-test")
        assert console.retry_after(keys_for("shared-limit-test", "10.1.1.1"), now=503.0) == 0
