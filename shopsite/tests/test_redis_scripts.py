import uuid

import redis
from django.conf import settings

from shopsite.redis_client import lua_script

ECHO = "return {KEYS[1], ARGV[1]}"


def test_a_script_is_made_once_per_client(redis_client):
    assert lua_script(ECHO) is lua_script(ECHO)
    assert lua_script(ECHO) is lua_script(ECHO, redis_client)  # the process's client
    other = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    try:
        assert lua_script(ECHO, other) is not lua_script(ECHO)
        assert lua_script(ECHO, other) is lua_script(ECHO, other)
    finally:
        other.close()


def test_a_script_the_server_does_not_know_is_loaded_and_run(redis_client):
    # A text no one has run before: its first EVALSHA meets NOSCRIPT (as after a server restart).
    text = f"-- {uuid.uuid4()}\nreturn ARGV[1] .. KEYS[1]"
    script = lua_script(text)
    assert redis_client.script_exists(script.sha) == [False]
    assert script(keys=["k"], args=["v"]) == "vk"
    assert redis_client.script_exists(script.sha) == [True]
    assert script(keys=["x"], args=["y"]) == "yx"


def test_a_script_runs_in_a_pipeline(redis_client):
    text = f"-- {uuid.uuid4()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])"
    pipe = redis_client.pipeline(transaction=False)
    lua_script(text)(keys=["counter"], args=[2], client=pipe)
    lua_script(text)(keys=["counter"], args=[3], client=pipe)
    assert pipe.execute() == [2, 5]
