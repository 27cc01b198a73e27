"""The .NET view of a date and time as text: `DateTime` values, cultures, format strings, parsing.

Logic Apps runs on .NET, so its date functions print with `DateTime.ToString(format, culture)` and read
timestamps the way `DateTime.Parse`/`ParseExact` do. This module reproduces both for the cultures
pairflow ships (invariant, en-US, en-GB, de-DE, fr-FR, es-ES). It is pure: a `DotNetDateTime` is a tick
count and a kind; time zones and the clock belong to `datetime.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache

from pairflow.errors import ExpressionEvaluationError

TICKS_PER_MICROSECOND = 10  # a tick is 100 ns
TICKS_PER_SECOND = 10_000_000
TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND
TICKS_PER_HOUR = 60 * TICKS_PER_MINUTE
TICKS_PER_DAY = 24 * TICKS_PER_HOUR
MAX_TICKS = date(9999, 12, 31).toordinal() * TICKS_PER_DAY - 1  # 9999-12-31T23:59:59.9999999
TWO_DIGIT_YEAR_MAX = 2029  # .NET's Gregorian calendar: "29" is 2029, "30" is 1930
_EPOCH = datetime(1, 1, 1)


@dataclass(frozen=True, slots=True)
class DotNetDateTime:
    """A .NET `DateTime`: ticks since 0001-01-01T00:00:00 and its kind (UTC, else Unspecified).

    Timestamps with an offset are normalised to UTC on parsing, as Logic Apps does, so the Local kind
    never occurs. Python's `datetime` stops at microseconds; the tick count keeps the seventh digit.
    """

    ticks: int
    utc: bool

    def __post_init__(self) -> None:
        if not 0 <= self.ticks <= MAX_TICKS:
            raise ExpressionEvaluationError(
                "The resulting date and time is outside the supported range 0001-01-01 to 9999-12-31"
            )

    @classmethod
    def from_datetime(cls, value: datetime, utc: bool, sub_ticks: int = 0) -> DotNetDateTime:
        """From a wall-clock `datetime` (its tzinfo is ignored) plus the ticks below a microsecond."""
        delta = value.replace(tzinfo=None) - _EPOCH
        seconds = delta.days * 86_400 + delta.seconds
        return cls(seconds * TICKS_PER_SECOND + delta.microseconds * TICKS_PER_MICROSECOND + sub_ticks, utc)

    def to_datetime(self) -> datetime:
        """The naive wall-clock `datetime`, truncated to the microsecond (see `sub_ticks`)."""
        return _EPOCH + timedelta(microseconds=self.ticks // TICKS_PER_MICROSECOND)

    @property
    def sub_ticks(self) -> int:
        return self.ticks % TICKS_PER_MICROSECOND

    def add_ticks(self, ticks: int) -> DotNetDateTime:
        return DotNetDateTime(self.ticks + ticks, self.utc)


@dataclass(frozen=True, slots=True)
class Culture:
    """The part of a .NET `CultureInfo.DateTimeFormat` that dates need."""

    name: str
    day_names: tuple[str, ...]  # Sunday first
    abbreviated_day_names: tuple[str, ...]
    month_names: tuple[str, ...]  # January first
    abbreviated_month_names: tuple[str, ...]
    am: str
    pm: str
    date_separator: str
    short_date: str
    long_date: str
    short_time: str
    long_time: str
    month_day: str
    year_month: str
    day_first: bool  # numeric dates without a format read as d/M/y (else M/d/y)
    filler_words: frozenset[str] = frozenset()  # words parsing skips ("de" in "20 de octubre")

    @property
    def standard_patterns(self) -> Mapping[str, str]:
        return _standard_patterns(self)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ENGLISH_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ENGLISH_MONTHS = _words(
    "January February March April May June July August September October November December"
)
_ENGLISH_DAYS_ABBR = tuple(day[:3] for day in _ENGLISH_DAYS)
_ENGLISH_MONTHS_ABBR = tuple(month[:3] for month in _ENGLISH_MONTHS)

INVARIANT = Culture(
    name="",
    day_names=_ENGLISH_DAYS,
    abbreviated_day_names=_ENGLISH_DAYS_ABBR,
    month_names=_ENGLISH_MONTHS,
    abbreviated_month_names=_ENGLISH_MONTHS_ABBR,
    am="AM",
    pm="PM",
    date_separator="/",
    short_date="MM/dd/yyyy",
    long_date="dddd, dd MMMM yyyy",
    short_time="HH:mm",
    long_time="HH:mm:ss",
    month_day="MMMM dd",
    year_month="yyyy MMMM",
    day_first=False,
)
EN_US = Culture(
    name="en-US",
    day_names=_ENGLISH_DAYS,
    abbreviated_day_names=_ENGLISH_DAYS_ABBR,
    month_names=_ENGLISH_MONTHS,
    abbreviated_month_names=_ENGLISH_MONTHS_ABBR,
    am="AM",
    pm="PM",
    date_separator="/",
    short_date="M/d/yyyy",
    long_date="dddd, MMMM d, yyyy",
    short_time="h:mm tt",
    long_time="h:mm:ss tt",
    month_day="MMMM d",
    year_month="MMMM yyyy",
    day_first=False,
    filler_words=frozenset({"of", "the", "at"}),
)
EN_GB = Culture(
    name="en-GB",
    day_names=_ENGLISH_DAYS,
    abbreviated_day_names=_ENGLISH_DAYS_ABBR,
    month_names=_ENGLISH_MONTHS,
    abbreviated_month_names=_ENGLISH_MONTHS_ABBR,
    am="AM",
    pm="PM",
    date_separator="/",
    short_date="dd/MM/yyyy",
    long_date="dd MMMM yyyy",
    short_time="HH:mm",
    long_time="HH:mm:ss",
    month_day="dd MMMM",
    year_month="MMMM yyyy",
    day_first=True,
    filler_words=frozenset({"of", "the", "at"}),
)
DE_DE = Culture(
    name="de-DE",
    day_names=("Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"),
    abbreviated_day_names=("So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"),
    month_names=_words("Januar Februar März April Mai Juni Juli August September Oktober November Dezember"),
    abbreviated_month_names=_words("Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez"),
    am="",
    pm="",
    date_separator=".",
    short_date="dd.MM.yyyy",
    long_date="dddd, d. MMMM yyyy",
    short_time="HH:mm",
    long_time="HH:mm:ss",
    month_day="d. MMMM",
    year_month="MMMM yyyy",
    day_first=True,
    filler_words=frozenset({"um"}),
)
FR_FR = Culture(
    name="fr-FR",
    day_names=("dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"),
    abbreviated_day_names=("dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."),
    month_names=_words(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ),
    abbreviated_month_names=_words("janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc."),
    am="",
    pm="",
    date_separator="/",
    short_date="dd/MM/yyyy",
    long_date="dddd d MMMM yyyy",
    short_time="HH:mm",
    long_time="HH:mm:ss",
    month_day="d MMMM",
    year_month="MMMM yyyy",
    day_first=True,
    filler_words=frozenset({"le", "à"}),
)
ES_ES = Culture(
    name="es-ES",
    day_names=("domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"),
    abbreviated_day_names=("do.", "lu.", "ma.", "mi.", "ju.", "vi.", "sá."),
    month_names=_words(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ),
    abbreviated_month_names=_words("ene. feb. mar. abr. may. jun. jul. ago. sep. oct. nov. dic."),
    am="a. m.",
    pm="p. m.",
    date_separator="/",
    short_date="dd/MM/yyyy",
    long_date="dddd, d' de 'MMMM' de 'yyyy",
    short_time="H:mm",
    long_time="H:mm:ss",
    month_day="d' de 'MMMM",
    year_month="MMMM' de 'yyyy",
    day_first=True,
    filler_words=frozenset({"de", "del", "a", "las", "la"}),
)

_CULTURES: dict[str, Culture] = {
    "": INVARIANT,
    "iv": INVARIANT,
    "invariant": INVARIANT,
    "en": EN_US,
    "en-us": EN_US,
    "en-gb": EN_GB,
    "de": DE_DE,
    "de-de": DE_DE,
    "fr": FR_FR,
    "fr-fr": FR_FR,
    "es": ES_ES,
    "es-es": ES_ES,
}
DEFAULT_CULTURE = EN_US  # the docs: "If unspecified, the value is en-us"


def culture(name: str) -> Culture:
    """The culture for an RFC 4646 name (any case, '_' or '-'); raises for one pairflow lacks."""
    found = _CULTURES.get(name.strip().lower().replace("_", "-"))
    if found is None:
        known = ", ".join(sorted({c.name or "invariant" for c in _CULTURES.values()}))
        raise ExpressionEvaluationError(
            f"The locale '{name}' is not valid or not supported (supported: {known})"
        )
    return found


@cache
def _standard_patterns(c: Culture) -> Mapping[str, str]:
    full = f"{c.long_date} {c.long_time}"
    return {
        "d": c.short_date,
        "D": c.long_date,
        "f": f"{c.long_date} {c.short_time}",
        "F": full,
        "g": f"{c.short_date} {c.short_time}",
        "G": f"{c.short_date} {c.long_time}",
        "m": c.month_day,
        "M": c.month_day,
        "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        "t": c.short_time,
        "T": c.long_time,
        "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        "U": full,
        "y": c.year_month,
        "Y": c.year_month,
    }


_CULTURE_FREE = frozenset("oOrRsu")  # standard formats that always use the invariant culture

# --- format strings -----------------------------------------------------------------------------------

# A token is ("lit", text) for literal text, or (letter, count) for a run of one pattern letter;
# ":" and "/" become ("timesep", 1) and ("datesep", 1).
Token = tuple[str, int | str]
_PATTERN_LETTERS = frozenset("dfFghHKmMstyz")
_MAX_FRACTION_DIGITS = 7


def _format_error(fmt: str, why: str) -> ExpressionEvaluationError:
    return ExpressionEvaluationError(f"The format '{fmt}' is not a valid date and time format string: {why}")


@lru_cache(maxsize=512)
def tokenize(fmt: str) -> tuple[tuple[Token, ...], bool]:
    """Compile a format string to tokens; the flag says it used a culture-free standard format.

    A one-character format is a standard format specifier and expands to its culture's pattern later;
    the tokens then hold a single ("standard", letter) entry.
    """
    if len(fmt) == 1:
        if fmt not in _standard_patterns(INVARIANT):
            raise _format_error(fmt, "it is not a standard format specifier")
        return ((("standard", fmt),), fmt in _CULTURE_FREE)
    return (_tokenize_custom(fmt), False)


def _tokenize_custom(fmt: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch in _PATTERN_LETTERS:
            run = 1
            if ch != "K":
                while i + run < n and fmt[i + run] == ch:
                    run += 1
            if ch in "fF" and run > _MAX_FRACTION_DIGITS:
                raise _format_error(fmt, f"'{ch * run}' has more than {_MAX_FRACTION_DIGITS} digits")
            tokens.append((ch, run))
            i += run
        elif ch == ":":
            tokens.append(("timesep", 1))
            i += 1
        elif ch == "/":
            tokens.append(("datesep", 1))
            i += 1
        elif ch in "'\"":
            end = i + 1
            text: list[str] = []
            while end < n and fmt[end] != ch:
                if fmt[end] == "\\" and end + 1 < n:
                    end += 1
                text.append(fmt[end])
                end += 1
            if end >= n:
                raise _format_error(fmt, f"the quoted text starting at position {i + 1} is not closed")
            tokens.append(("lit", "".join(text)))
            i = end + 1
        elif ch == "%":
            if i + 1 >= n or fmt[i + 1] == "%":
                raise _format_error(fmt, "'%' must be followed by one format character")
            nxt = fmt[i + 1]
            tokens.append((nxt, 1) if nxt in _PATTERN_LETTERS else ("lit", nxt))
            i += 2
        elif ch == "\\":
            if i + 1 >= n:
                raise _format_error(fmt, "it ends with an escape character '\\'")
            tokens.append(("lit", fmt[i + 1]))
            i += 2
        else:
            tokens.append(("lit", ch))
            i += 1
    return tuple(tokens)


@lru_cache(maxsize=512)
def compile_format(fmt: str, c: Culture) -> tuple[tuple[Token, ...], Culture]:
    """The tokens to print or read `fmt` with, standard formats expanded, and the culture they use."""
    tokens, culture_free = tokenize(fmt)
    if tokens and tokens[0][0] == "standard":
        used = INVARIANT if culture_free else c
        return _tokenize_custom(_standard_patterns(used)[str(tokens[0][1])]), used
    return tokens, c


def format_datetime(value: DotNetDateTime, fmt: str, c: Culture = DEFAULT_CULTURE) -> str:
    """`DateTime.ToString(fmt, culture)`; the server's own zone is UTC, so 'z' prints +00:00."""
    tokens, c = compile_format(fmt, c)
    wall = value.to_datetime()
    fraction = value.ticks % TICKS_PER_SECOND
    out: list[str] = []
    for kind, arg in tokens:
        if kind == "lit":
            out.append(str(arg))
            continue
        count = int(arg)
        if kind == "d":
            if count == 1:
                out.append(str(wall.day))
            elif count == 2:
                out.append(f"{wall.day:02d}")
            else:
                names = c.abbreviated_day_names if count == 3 else c.day_names
                out.append(names[(wall.weekday() + 1) % 7])
        elif kind == "M":
            if count <= 2:
                out.append(f"{wall.month:0{count}d}")
            else:
                names = c.abbreviated_month_names if count == 3 else c.month_names
                out.append(names[wall.month - 1])
        elif kind == "y":
            year = wall.year % 100 if count <= 2 else wall.year
            out.append(f"{year:0{count}d}")
        elif kind in "hHms":
            number = {"h": (wall.hour % 12) or 12, "H": wall.hour, "m": wall.minute, "s": wall.second}[kind]
            out.append(f"{number:0{min(count, 2)}d}")
        elif kind == "f":
            out.append(f"{fraction:07d}"[:count])
        elif kind == "F":
            digits = f"{fraction:07d}"[:count].rstrip("0")
            if digits:
                out.append(digits)
            elif out and out[-1].endswith("."):
                out[-1] = out[-1][:-1]
        elif kind == "t":
            designator = c.am if wall.hour < 12 else c.pm
            out.append(designator[:1] if count == 1 else designator)
        elif kind == "K":
            out.append("Z" if value.utc else "")
        elif kind == "z":
            out.append({1: "+0", 2: "+00"}.get(count, "+00:00"))
        elif kind == "g":
            out.append("A.D.")
        elif kind == "timesep":
            out.append(":")
        elif kind == "datesep":
            out.append(c.date_separator)
    return "".join(out)


# --- parsing ------------------------------------------------------------------------------------------

_ISO = re.compile(
    r"\s*(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[Tt ](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?\s*"
)
_TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?(?![\d:])"
)
_ZONE_AFTER_TIME = re.compile(r"\s*(?P<zone>Z|GMT|UTC|[+-]\d{1,2}(?::?\d{2})?)(?![\w])", re.IGNORECASE)
_WORD = re.compile(r"\d+|[^\W\d_]+\.?")


def _fraction_ticks(digits: str | None) -> int:
    """Seconds fraction digits to ticks, rounded to the nearest tick as .NET does."""
    if not digits:
        return 0
    if len(digits) <= _MAX_FRACTION_DIGITS:
        return int(digits.ljust(_MAX_FRACTION_DIGITS, "0"))
    return int(digits[:_MAX_FRACTION_DIGITS]) + (digits[_MAX_FRACTION_DIGITS] >= "5")


def _offset_minutes(zone: str) -> int:
    if zone.upper() in ("Z", "GMT", "UTC"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    body = zone[1:].replace(":", "")
    hours, minutes = (body, "0") if len(body) <= 2 else (body[:-2], body[-2:])
    if int(hours) > 14 or int(minutes) > 59:
        raise ValueError(f"offset {zone} out of range")
    return sign * (int(hours) * 60 + int(minutes))


def _build(day: tuple[int, int, int], time: tuple[int, int, int, int], offset: int | None) -> DotNetDateTime:
    """Assemble (year, month, day) and (hour, minute, second, ticks); an offset (minutes east of UTC)
    makes the value UTC. Raises ValueError for a date or time that does not exist."""
    hour, minute, second, ticks = time
    wall = datetime(day[0], day[1], day[2], hour, minute, second)
    value = DotNetDateTime.from_datetime(wall, utc=False).add_ticks(ticks)
    if offset is None:
        return value
    return DotNetDateTime(value.ticks - offset * TICKS_PER_MINUTE, utc=True)


def _expand_two_digit_year(year: int, digits: int) -> int:
    if digits > 2:
        return year
    century = TWO_DIGIT_YEAR_MAX // 100 * 100
    return year + century if year + century <= TWO_DIGIT_YEAR_MAX else year + century - 100


def _fold(word: str) -> str:
    return word.lower().rstrip(".")


@cache
def _name_index(c: Culture) -> tuple[dict[str, int], frozenset[str], dict[str, int]]:
    """Month words to month numbers, day words, and AM/PM words to 0/12, all case-folded."""
    months = {_fold(name): i + 1 for i, name in enumerate(c.month_names)}
    months.update({_fold(name): i + 1 for i, name in enumerate(c.abbreviated_month_names)})
    days = frozenset(_fold(name) for name in (*c.day_names, *c.abbreviated_day_names))
    designators = {"am": 0, "pm": 12, "a": 0, "p": 12}
    if c.am:
        designators[_fold(c.am).replace(" ", "")] = 0
        designators[_fold(c.pm).replace(" ", "")] = 12
    return months, days, designators


def parse_datetime(text: str, c: Culture = DEFAULT_CULTURE) -> DotNetDateTime:
    """`DateTime.Parse(text, culture, AdjustToUniversal)`: ISO 8601, then the culture's usual forms.

    Raises `ExpressionEvaluationError` saying the text is not a date and time.
    """
    try:
        found = _parse_iso(text) or _parse_loose(text, c)
    except (ValueError, OverflowError):
        found = None
    if found is None:
        raise ExpressionEvaluationError(f"The string '{text}' is not a valid date and time")
    return found


def _parse_iso(text: str) -> DotNetDateTime | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    zone = match["zone"]
    return _build(
        (int(match["year"]), int(match["month"]), int(match["day"])),
        (
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            _fraction_ticks(match["fraction"]),
        ),
        None if zone is None else _offset_minutes(zone),
    )


def _parse_loose(text: str, c: Culture) -> DotNetDateTime | None:
    """Dates such as '03/15/2018 13:00:00', '20 octobre 2010', 'Thu, 15 Mar 2018 13:00:00 GMT'."""
    hour = minute = second = ticks = 0
    offset: int | None = None
    rest = text
    time = _TIME.search(rest)
    if time is not None:
        hour, minute = int(time["hour"]), int(time["minute"])
        second, ticks = int(time["second"] or 0), _fraction_ticks(time["fraction"])
        after = rest[time.end() :]
        zone = _ZONE_AFTER_TIME.match(after)
        if zone is not None:
            offset = _offset_minutes(zone["zone"])
            after = after[zone.end() :]
        rest = rest[: time.start()] + " " + after
    months, days, designators = _name_index(c)
    numbers: list[str] = []
    month_from_name: int | None = None
    meridiem: int | None = None
    compact = rest.replace("a. m.", "a.m.").replace("p. m.", "p.m.")
    for word in _WORD.findall(compact):
        folded = _fold(word)
        if word.isdigit():
            numbers.append(word)
        elif folded in months and month_from_name is None:
            month_from_name = months[folded]
        elif folded.replace(".", "") in designators and time is not None and meridiem is None:
            meridiem = designators[folded.replace(".", "")]
        elif folded in days or folded in c.filler_words:
            continue
        elif folded in ("z", "gmt", "utc") and offset is None:
            offset = 0
        else:
            return None
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + meridiem
    return _build(_assign_date_numbers(numbers, month_from_name, c), (hour, minute, second, ticks), offset)


def _assign_date_numbers(numbers: list[str], month: int | None, c: Culture) -> tuple[int, int, int]:
    """Year, month and day from the numbers of a date, in the culture's order. Raises ValueError."""
    if month is not None:
        if len(numbers) != 2:
            raise ValueError("expected a day and a year")
        first, second = numbers
        day_text, year_text = (second, first) if len(first) > 2 else (first, second)
        return _expand_two_digit_year(int(year_text), len(year_text)), month, int(day_text)
    if len(numbers) != 3:
        raise ValueError("expected a year, a month and a day")
    if len(numbers[0]) > 2:
        year_text, month_text, day_text = numbers
    elif c.day_first:
        day_text, month_text, year_text = numbers
    else:
        month_text, day_text, year_text = numbers
    return _expand_two_digit_year(int(year_text), len(year_text)), int(month_text), int(day_text)


@lru_cache(maxsize=256)
def _exact_regex(fmt: str, c: Culture) -> tuple[re.Pattern[str], tuple[Token, ...]]:
    tokens, c = compile_format(fmt, c)
    parts: list[str] = []
    fields: list[Token] = []

    def group(body: str, token: Token) -> None:
        parts.append(f"({body})")
        fields.append(token)

    def names(values: tuple[str, ...]) -> str:
        return "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))

    for kind, arg in tokens:
        count = int(arg) if kind != "lit" else 0
        if kind == "lit":
            parts.append(re.escape(str(arg)))
        elif kind == "timesep":
            parts.append(":")
        elif kind == "datesep":
            parts.append(re.escape(c.date_separator))
        elif kind in "dM" and count >= 3:
            if kind == "d":
                group(names(c.abbreviated_day_names if count == 3 else c.day_names), (kind, count))
            else:
                group(names(c.abbreviated_month_names if count == 3 else c.month_names), (kind, count))
        elif kind in "dMhHms":
            group(r"\d{1,2}" if count == 1 else r"\d{2}", (kind, count))
        elif kind == "y":
            body = {1: r"\d{1,2}", 2: r"\d{2}", 3: r"\d{3,4}"}.get(count, rf"\d{{{count}}}")
            group(body, (kind, count))
        elif kind == "f":
            group(rf"\d{{{count}}}", (kind, count))
        elif kind == "F":
            group(rf"\d{{0,{count}}}", (kind, count))
        elif kind == "t":
            options = [c.am, c.pm] if count > 1 else [c.am[:1], c.pm[:1]]
            group(names(tuple(o for o in options if o)) or "", (kind, count))
        elif kind == "z":
            body = {1: r"[+-]\d{1,2}", 2: r"[+-]\d{2}"}.get(count, r"[+-]\d{2}:\d{2}")
            group(body, (kind, count))
        elif kind == "K":
            group(r"Z|[+-]\d{2}:\d{2}|", (kind, count))
        elif kind == "g":
            group(r"A\.D\.|AD", (kind, count))
    return re.compile("".join(parts), re.IGNORECASE), tuple(fields)


def parse_exact(text: str, fmt: str, c: Culture = DEFAULT_CULTURE) -> DotNetDateTime:
    """`DateTime.ParseExact(text, fmt, culture, AdjustToUniversal)`; raises naming text and format."""
    regex, fields = _exact_regex(fmt, c)
    match = regex.fullmatch(text)
    failure = ExpressionEvaluationError(
        f"The string '{text}' does not match the date and time format '{fmt}'"
    )
    if match is None:
        raise failure
    _, used = compile_format(fmt, c)
    months, _, _ = _name_index(used)
    year, month, day, hour, minute, second, ticks = 1, 1, 1, 0, 0, 0, 0
    offset: int | None = None
    meridiem: int | None = None
    try:
        for (kind, arg), value in zip(fields, match.groups(), strict=True):
            count = int(arg)
            if kind == "y":
                year = _expand_two_digit_year(int(value), len(value)) if count <= 2 else int(value)
            elif kind == "M":
                month = int(value) if count <= 2 else months[_fold(value)]
            elif kind == "d" and count <= 2:
                day = int(value)
            elif kind in "hH":
                hour = int(value)
            elif kind == "m":
                minute = int(value)
            elif kind == "s":
                second = int(value)
            elif kind in "fF":
                ticks = _fraction_ticks(value)
            elif kind == "t" and value:
                meridiem = 12 if value.lower() == (used.pm if count > 1 else used.pm[:1]).lower() else 0
            elif kind in "zK" and value:
                offset = _offset_minutes(value)
    except ValueError:
        raise failure from None
    if meridiem is not None:
        hour = hour % 12 + meridiem
    try:
        return _build((year, month, day), (hour, minute, second, ticks), offset)
    except (ValueError, OverflowError):
        raise failure from None
