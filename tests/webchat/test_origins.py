"""Allowed origins: whatever is typed, either a clear refusal or one normal form that the
browser's Origin header is compared with."""

from hypothesis import given
from hypothesis import strategies as st

from apps.core.errors import InvalidInput
from apps.webchat.services import clean_origin


@given(st.one_of(st.text(max_size=80), st.integers(), st.none()))
def test_any_input_is_refused_clearly_or_normalised_once(value):
    try:
        cleaned = clean_origin(value)
    except InvalidInput as error:
        assert error.extra["field"] == "allowed_origins"
        return
    assert clean_origin(cleaned) == cleaned
    assert cleaned == cleaned.lower() and not cleaned.endswith("/")


@given(st.sampled_from(["http", "https"]), st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}",
                                                          fullmatch=True),
       st.one_of(st.none(), st.integers(min_value=1, max_value=65535)))
def test_a_real_origin_is_kept_as_browsers_send_it(scheme, host, port):
    origin = f"{scheme}://{host}" + ("" if port is None else f":{port}")
    assert clean_origin(origin.upper() + "/") == origin
