"""Rasa's response validation with the JSON schemas compiled once instead of on every call.

Rasa 3.6 checks every action server answer and every NLG response with `jsonschema.validate`,
which first re-checks the schema itself: 16 ms per action answer and 2 ms per response on this
project's hardware, about 40% of what drafting a suggestion costs (bench/README.md). `install`
swaps both checks for validators built once from the same schemas; what is accepted, and the
errors raised for what is not, stay Rasa's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Text

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg.callback import CallbackNaturalLanguageGenerator, nlg_response_format_spec
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.exceptions import RasaException


@lru_cache(maxsize=None)
def _action_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    return validator_for(schema)(schema)


@lru_cache(maxsize=None)
def _nlg_validator() -> Any:
    schema = nlg_response_format_spec()
    return validator_for(schema)(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    try:
        _action_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error


def _validate_response(content: Optional[Dict[Text, Any]]) -> bool:
    if content is None or content == "":
        return True
    try:
        _nlg_validator().validate(content)
        return True
    except ValidationError as error:
        raise RasaException(
            f"{error.message}. Failed to validate NLG response from API, make sure your "
            "response from the NLG endpoint is valid."
        ) from error


def install() -> None:
    """Makes the running Rasa server validate with the compiled schemas (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    CallbackNaturalLanguageGenerator.validate_response = staticmethod(  # type: ignore[method-assign]
        _validate_response
    )
