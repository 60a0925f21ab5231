"""Log lines: the call id on every line of a call, JSON that parses line by line, phone numbers
masked at INFO unless personal data is allowed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from callcenter import log_setup
from callcenter.ports.call_context import bound_call


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def _configure(stream: io.StringIO, **kwargs: object) -> None:
    log_setup.configure("DEBUG", **kwargs)  # type: ignore[arg-type]
    for handler in logging.getLogger().handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)


def test_json_lines_parse_and_carry_the_call_id(captured: io.StringIO) -> None:
    _configure(captured, fmt="json")
    log = logging.getLogger("callcenter.test")
    with bound_call("1795432716.42"):
        log.info("IVR step %s", "main")
        log.warning("line with\nnewline")
    log.info("outside any call")
    lines = captured.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["call_id"] for r in records] == ["1795432716.42", "1795432716.42", "-"]
    assert records[0]["message"] == "IVR step main"
    assert records[0]["level"] == "INFO"
    assert records[0]["logger"] == "callcenter.test"
    assert len(lines) == 3  # the newline stayed inside its JSON string


def test_text_lines_name_the_call(captured: io.StringIO) -> None:
    _configure(captured)
    with bound_call("abc.1"):
        logging.getLogger("callcenter.test").info("queued")
    assert "[abc.1]: queued" in captured.getvalue()


def test_phone_numbers_are_masked_at_info(captured: io.StringIO) -> None:
    _configure(captured)
    log = logging.getLogger("callcenter.test")
    log.info("caller %s identified, account 1234", "+79157001122")
    log.info("dialling 8 (800) 100-00-00")
    log.debug("debug keeps %s", "+79157001122")
    text = captured.getvalue()
    assert "+79157001122" not in text.splitlines()[0]
    assert "*********22" in text
    assert "8 (800) 100-00-00" not in text
    assert "account 1234" in text  # short numbers are not phone numbers
    assert "debug keeps +79157001122" in text


def test_personal_data_can_be_allowed(captured: io.StringIO) -> None:
    _configure(captured, personal_data=True)
    logging.getLogger("callcenter.test").info("caller %s", "+79157001122")
    assert "caller +79157001122" in captured.getvalue()
