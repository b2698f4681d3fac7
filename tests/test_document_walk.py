"""The walk of a large document's record list (`scan.DocumentWalk`, `_scan.c`'s sts_walk).

A document larger than a batch is read a slice of its list at a time (`slices.cut_document`):
the walk must find exactly the elements of the list, whatever blocks the document arrives in,
and say where a document stops being one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import scan

pytestmark = pytest.mark.skipif(not scan.available(), reason="the compiled splitter is not built")

_ROOT_KEYS = ("Records", "Events", "eventTime", "detail-type", "detail", "digestStartTime")

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
# other keys at the root, as JSON writes them without an escape (an escaped or non-ASCII root
# key stops the walk: the document is read whole)
_other_keys = st.dictionaries(
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'),
        max_size=40,
    ).filter(lambda k: k not in _ROOT_KEYS and not k.startswith("sts-audit:")),
    _values,
    max_size=2,
)


def _walk(text: bytes, block: int) -> tuple[scan.DocumentWalk, list[bytes]]:
    walk = scan.DocumentWalk()
    found: list[bytes] = []
    for i in range(0, len(text), block):
        found += walk.feed(text[i : i + block])
    return walk, found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elements=st.lists(_values, max_size=8),
    list_key=st.sampled_from([None, "Records", "Events"]),
    before=_other_keys,
    after=_other_keys,
    indent=st.sampled_from([None, 2]),
    ascii_only=st.booleans(),
    block=st.integers(1, 64),
    cut=st.floats(0, 1, exclude_max=True),
)
def test_the_walk_finds_the_lists_elements_in_any_blocks(
    elements: list[Any],
    list_key: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
    indent: int | None,
    ascii_only: bool,
    block: int,
    cut: float,
) -> None:
    doc: Any = elements if list_key is None else {**before, list_key: elements, **after}
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode()

    walk, found = _walk(text, block)
    walk.finish()

    shapes = {None: "array", "Records": "records", "Events": "lookup_events"}
    assert walk.shape == shapes[list_key]
    assert [json.loads(t) for t in found] == elements
    assert walk.elements == len(elements)

    # any part of the document: the elements it holds whole, then "truncated" at the end
    part = text[: int(len(text) * cut)]
    walk, found = _walk(part, block)
    assert [json.loads(t) for t in found] == elements[: len(found)]
    with pytest.raises(scan.WalkError, match="truncated"):
        walk.finish()


@pytest.mark.parametrize(
    ("text", "elements", "problem"),
    [
        # what DuckDB's read of the whole document may judge otherwise stops the walk: the
        # ingest reads that document whole
        (b'{"Records":[1,]}', [b"1"], "not valid JSON"),  # a trailing comma
        (b'{"Records":[1,,2]}', [b"1"], "not valid JSON"),
        (b'{"Records":[1}]}', [], "not valid JSON"),
        (b'{"Records":[1 2]}', [], "not valid JSON"),  # two values for one element
        (b'{"Records":[{"a":tru}]}', [], "not valid JSON"),
        (b'{"Records":[{"a":01}]}', [], "not valid JSON"),
        (b'{"Records":[{"a":"x\ty"}]}', [], "not valid JSON"),  # a raw control character
        (b'{"Records":[{"a":"\\ud800"}]}', [], "not valid JSON"),  # a lone surrogate
        (
            b'{"Records":[{"a":"\\ud83d\\ude00"}, "caf\xe9"]}',
            [b'{"a":"\\ud83d\\ude00"}'],
            "not valid JSON",
        ),
        (b'{"Records":[1,2]}x', [b"1", b"2"], "something follows the end of the document"),
        (b'{"Records":[1]}{"a":1}', [b"1"], "a document without a record list among"),
        (b'{"a":1} {"Records":[1]}', [], "a document without a record list among"),
        (b'{"Records":[1],"Events":[2]}', [b"1"], "a second record list"),
        (b'{"Records":[1],"Records":[2]}', [b"1"], "a second record list"),
        (b'{"Records":5,"Records":[1]}', [], "not a JSON array or object, or its Records"),
        (b'{"Records":[1],"eventTime":"x"}', [b"1"], "a key of a record"),
        (b'{"eventTime":"x","Records":[1]}', [], "a key of a record"),
        (b'{"Rec\\u006frds":[1]}', [], "a key with an escape"),
        (b'{"caf\xc3\xa9":1,"Records":[1]}', [], "a key with an escape"),
        (b'{"NextToken":tru,"Records":[1]}', [], "not valid JSON"),
        (b'{"NextToken":"a" "b","Records":[1]}', [], "not valid JSON"),
        (b'{"Records":[1],"a":}', [b"1"], "not valid JSON"),
        (b'{"Records":[1] "a":1}', [b"1"], "not valid JSON"),
        (b'{"Records":[1],}', [b"1"], "not valid JSON"),
        (b'"x"', [], "not a JSON array or object"),
        (b"[" * 1100, [], "nested deeper than 1024 levels"),
        (b'{"Records":[' + b"[" * 1030 + b"]" * 1030 + b"]}", [], "nested deeper than 1024"),
    ],
)
def test_where_a_document_stops_being_one_to_read_by_its_list_is_named(
    text: bytes, elements: list[bytes], problem: str
) -> None:
    walk, found = _walk(text, 3)
    assert found == elements
    assert walk.problem is not None and walk.problem.startswith(problem)
    with pytest.raises(scan.WalkError, match=problem.split(",")[0]):
        walk.finish()
    assert walk.feed(b"[1]") == []  # the walk ends where the document stopped being one


def test_documents_one_after_the_other_are_walked_one_after_the_other() -> None:
    # a `cat` of delivery files: DuckDB reads each document, and numbers each one's records
    text = (
        b'{"Records":[1,2]}\n[3] {"NextToken":"x","Events":[{"CloudTrailEvent":"{}"}]}'
        b'{"Records":[]}'
    )
    walk = scan.DocumentWalk()
    found = []
    for i in range(0, len(text), 4):
        found += walk.feed_numbered(text[i : i + 4])
    walk.finish()
    assert walk.shape == "records"  # the first document's
    assert found == [
        (0, "records", b"1"),
        (1, "records", b"2"),
        (0, "array", b"3"),
        (0, "lookup_events", b'{"CloudTrailEvent":"{}"}'),
    ]


@pytest.mark.parametrize("text", [b'{"records":[1]}', b'{"a":{"Records":[1]}}', b"{}", b" {} "])
def test_a_document_with_no_record_list_has_no_shape(text: bytes) -> None:
    # keys are case-sensitive, as DuckDB's paths are, and only the root's count
    walk, found = _walk(text, 5)
    walk.finish()
    assert walk.shape is None and found == []


def test_a_long_root_key_is_counted_not_copied() -> None:
    # a key is compared by its first bytes only: a very long one is some other key (its length
    # once overflowed a counter, and the next byte was written far outside the walk's state)
    walk, found = _walk(b'{"' + b"A" * (1 << 20) + b'":1,"Records":[1,2]}', 1 << 16)
    walk.finish()
    assert walk.shape == "records" and found == [b"1", b"2"]


def test_a_value_past_the_limit_stops_the_walk() -> None:
    walk = scan.DocumentWalk(limit=1000)
    assert walk.feed(b'{"Records":[1,"' + b"x" * 2000) == [b"1"]
    assert walk.problem is not None and walk.problem.startswith("a value larger than")
