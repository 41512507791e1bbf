"""Lock stores for Rasa's conversation locks that several Rasa processes can share.

`redis_atomic.AtomicRedisLockStore` replaces Rasa's `RedisLockStore` in
`endpoints.scale-out.yml`: its tickets are issued, checked and released by Lua scripts that run
atomically in Redis, so two replicas never both hold one conversation's lock.
"""
