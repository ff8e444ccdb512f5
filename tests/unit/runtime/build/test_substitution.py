"""Variable substitution exactly as the Dockerfile reference defines it (table-driven)."""
import pytest

from runtime.build.substitution import SubstitutionError, expand, split_words

ENV = {"SET": "value", "EMPTY": "", "NAME": "world", "A": "a b"}

CASES = [
    # plain forms
    ("$SET", "value"),
    ("${SET}", "value"),
    ("pre${SET}post", "prevaluepost"),
    ("$SET/x", "value/x"),
    ("$UNSET", ""),
    ("${UNSET}", ""),
    ("$", "$"),
    ("a$ b", "a$ b"),
    ("$/x", "$/x"),
    ("100$", "100$"),
    # ${VAR:-word}: word when unset or empty
    ("${SET:-default}", "value"),
    ("${EMPTY:-default}", "default"),
    ("${UNSET:-default}", "default"),
    # ${VAR-word}: word only when unset
    ("${SET-default}", "value"),
    ("${EMPTY-default}", ""),
    ("${UNSET-default}", "default"),
    # ${VAR:+word}: word when set and not empty
    ("${SET:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${UNSET:+alt}", ""),
    # ${VAR+word}: word when set, even to ""
    ("${SET+alt}", "alt"),
    ("${EMPTY+alt}", "alt"),
    ("${UNSET+alt}", ""),
    # ${VAR:?msg} passes through when set
    ("${SET:?must be set}", "value"),
    ("${EMPTY?may be empty}", ""),
    # the word is itself expanded, and may be empty
    ("${UNSET:-$NAME}", "world"),
    ("${UNSET:-${NAME}!}", "world!"),
    ("${UNSET:-}", ""),
    ("${SET:+x$NAME}", "xworld"),
    ("${UNSET:-a b}", "a b"),
    # escapes
    ("\\$SET", "$SET"),
    ("\\${SET}", "${SET}"),
    ("a\\ b", "a b"),
    ("\\\\", "\\"),
    ("end\\", "end"),
    # quotes
    ("'$SET'", "$SET"),
    ('"$SET"', "value"),
    ('"a $NAME b"', "a world b"),
    ('"\\$SET"', "$SET"),
    ('"\\"q\\""', '"q"'),
    ('"\\n"', "\\n"),
    ("'a\\b'", "a\\b"),
    ('"it\'s"', "it's"),
    ("x'y'z", "xyz"),
    ('"$A"', "a b"),
]


@pytest.mark.parametrize("word,expected", CASES)
def test_expand(word, expected):
    assert expand(word, ENV).text == expected


@pytest.mark.parametrize("word,expected", [
    ("`$SET", "$SET"),        # the backtick escapes when it is the escape character
    ("C:\\path\\$SET", "C:\\path\\value"),
])
def test_backtick_escape(word, expected):
    assert expand(word, ENV, escape="`").text == expected


@pytest.mark.parametrize("word,message", [
    ("${UNSET:?is required}", "UNSET: is required"),
    ("${EMPTY:?must not be empty}", "EMPTY: must not be empty"),
    ("${UNSET?}", "UNSET: is not allowed to be unset"),
    ("${SET", "missing '}'"),
    ("${SET:-x", "missing '}'"),
    ("${SET%x}", "unsupported modifier (%)"),
    ("${SET:x}", "unsupported modifier (x)"),
    ("${}", "bad substitution"),
    ("'open", "matching single-quote"),
    ('"open', "matching double-quote"),
])
def test_expand_errors(word, message):
    with pytest.raises(SubstitutionError) as err:
        expand(word, ENV)
    assert message in str(err.value)


def test_used_names_are_reported_set_or_not():
    e = expand("${SET}-$UNSET-${NAME:-x}-\\$ESCAPED-'$QUOTED'", ENV)
    assert e.used == {"SET", "UNSET", "NAME"}


@pytest.mark.parametrize("text,words", [
    ("a b  c", ["a", "b", "c"]),
    ('a="x y" b', ['a="x y"', "b"]),
    ("a='x y'", ["a='x y'"]),
    ("a\\ b c", ["a\\ b", "c"]),
    ("", []),
    ("  lead trail  ", ["lead", "trail"]),
])
def test_split_words(text, words):
    assert split_words(text) == words
