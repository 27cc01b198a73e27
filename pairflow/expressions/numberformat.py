"""`formatNumber()` and `isInt()`/`isFloat()`: .NET standard and custom numeric format strings for a
small table of cultures.

Digits are rounded half away from zero on the shortest decimal form of the number, as .NET does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.values import format_float

_NBSP = "\u00a0"


@dataclass(frozen=True, slots=True)
class Culture:
    decimal: str
    group: str
    currency: str  # pattern with 'n' for the number, e.g. "$n" or "n €"
    negative_currency: str
    percent: str  # pattern, e.g. "n %" or "n%"


_EN = Culture(".", ",", "$n", "-$n", "n %")
CULTURES: dict[str, Culture] = {
    "en-us": _EN,
    "en": _EN,
    "en-gb": Culture(".", ",", "£n", "-£n", "n%"),
    "en-ca": Culture(".", ",", "$n", "-$n", "n%"),
    "en-au": Culture(".", ",", "$n", "-$n", "n%"),
    "en-in": Culture(".", ",", "₹n", "-₹n", "n%"),
    "is-is": Culture(",", ".", "n kr", "-n kr", "n%"),
    "de-de": Culture(",", ".", "n €", "-n €", "n %"),
    "de-at": Culture(",", _NBSP, "€ n", "-€ n", "n %"),
    "de-ch": Culture(".", "’", "CHF n", "CHF-n", "n%"),
    "fr-fr": Culture(",", "\u202f", "n €", "-n €", "n %"),
    "fr-ca": Culture(",", _NBSP, "n $", "-n $", "n %"),
    "es-es": Culture(",", ".", "n €", "-n €", "n %"),
    "es-mx": Culture(".", ",", "$n", "-$n", "n %"),
    "it-it": Culture(",", ".", "n €", "-n €", "n%"),
    "nl-nl": Culture(",", ".", "€ n", "€ -n", "n%"),
    "pt-br": Culture(",", ".", "R$ n", "-R$ n", "n%"),
    "pt-pt": Culture(",", _NBSP, "n €", "-n €", "n%"),
    "sv-se": Culture(",", _NBSP, "n kr", "-n kr", "n %"),
    "nb-no": Culture(",", _NBSP, "kr n", "-kr n", "n %"),
    "da-dk": Culture(",", ".", "n kr.", "-n kr.", "n %"),
    "fi-fi": Culture(",", _NBSP, "n €", "-n €", "n %"),
    "pl-pl": Culture(",", _NBSP, "n zł", "-n zł", "n%"),
    "ja-jp": Culture(".", ",", "¥n", "-¥n", "n%"),
    "zh-cn": Culture(".", ",", "¥n", "-¥n", "n%"),
    "ko-kr": Culture(".", ",", "₩n", "-₩n", "n%"),
    "ru-ru": Culture(",", _NBSP, "n ₽", "-n ₽", "n %"),
    "tr-tr": Culture(",", ".", "₺n", "-₺n", "%n"),
    "invariant": Culture(".", ",", "¤n", "-¤n", "n %"),
    "": Culture(".", ",", "¤n", "-¤n", "n %"),
}


def culture(name: str) -> Culture:
    found = CULTURES.get(name.strip().lower())
    if found is None:
        raise ExpressionEvaluationError(f"The locale '{name}' is not supported")
    return found


def _decimal(value: int | float) -> Decimal:
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def _round(value: Decimal, places: int) -> Decimal:
    try:
        with localcontext() as context:
            context.prec = 1000  # enough digits for any double with 99 decimals
            return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ExpressionEvaluationError("The number is too large to format") from None


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(parts)


def _fixed(value: Decimal, places: int, c: Culture, grouped: bool) -> str:
    """Absolute value with `places` decimals, in the culture's separators."""
    text = format(_round(abs(value), places), "f")
    whole, _, fraction = text.partition(".")
    if grouped:
        whole = _group(whole, c.group)
    return whole + (c.decimal + fraction if places > 0 else "")


def _precision(spec: str, default: int) -> int:
    if not spec:
        return default
    if not spec.isdigit() or int(spec) > 99:
        raise ExpressionEvaluationError(f"The format precision '{spec}' is not valid")
    return int(spec)


def format_number(value: int | float, pattern: str, locale: str = "en-us") -> str:
    c = culture(locale)
    if pattern and pattern[0].upper() in "CDEFGNPRX" and (pattern[1:].isdigit() or len(pattern) == 1):
        return _standard(value, pattern[0], pattern[1:], c)
    if not pattern:
        return _general(value, "", c)
    return _custom(value, pattern, c)


def _negative(value: Decimal, places: int) -> bool:
    return value < 0 and _round(abs(value), places) != 0


def _standard(value: int | float, kind: str, spec: str, c: Culture) -> str:
    number = _decimal(value)
    upper = kind.upper()
    if upper == "C":
        places = _precision(spec, 2)
        body = _fixed(number, places, c, True)
        pattern = c.negative_currency if _negative(number, places) else c.currency
        return pattern.replace("n", body)
    if upper == "D":
        if not isinstance(value, int):
            raise ExpressionEvaluationError("The format 'D' is only valid for integers")
        digits = str(abs(value)).zfill(_precision(spec, 0))
        return ("-" if value < 0 else "") + digits
    if upper == "F":
        places = _precision(spec, 2)
        return ("-" if _negative(number, places) else "") + _fixed(number, places, c, False)
    if upper == "N":
        places = _precision(spec, 2)
        return ("-" if _negative(number, places) else "") + _fixed(number, places, c, True)
    if upper == "P":
        places = _precision(spec, 2)
        scaled = number * 100
        body = _fixed(scaled, places, c, True)
        return ("-" if _negative(scaled, places) else "") + c.percent.replace("n", body)
    if upper == "E":
        return _scientific(number, _precision(spec, 6), kind, c, 3)
    if upper == "X":
        if not isinstance(value, int):
            raise ExpressionEvaluationError("The format 'X' is only valid for integers")
        digits = format(value & 0xFFFFFFFFFFFFFFFF if value < 0 else value, "x" if kind == "x" else "X")
        return digits.zfill(_precision(spec, 0))
    if upper == "R":
        return _general(value, "", c)
    return _general(value, spec, c)


def _scientific(number: Decimal, places: int, kind: str, c: Culture, exponent_digits: int) -> str:
    sign = "-" if number < 0 else ""
    magnitude = abs(number)
    if magnitude == 0:
        mantissa, exponent = Decimal(0), 0
    else:
        exponent = magnitude.adjusted()
        mantissa = _round(magnitude.scaleb(-exponent), places)
        if mantissa >= 10:
            mantissa /= 10
            exponent += 1
            mantissa = _round(mantissa, places)
    text = format(_round(mantissa, places), "f").replace(".", c.decimal)
    exp_sign = "-" if exponent < 0 else "+"
    return f"{sign}{text}{'e' if kind == 'e' else 'E'}{exp_sign}{str(abs(exponent)).zfill(exponent_digits)}"


def _general(value: int | float, spec: str, c: Culture) -> str:
    if not spec or int(spec) == 0:
        text = str(value) if isinstance(value, int) else format_float(value)
        return text.replace(".", c.decimal) if c.decimal != "." else text
    digits = int(spec)
    number = _decimal(value)
    if number == 0:
        return "0"
    exponent = number.adjusted()
    if exponent < -5 or exponent >= digits:
        text = _scientific(number, digits - 1, "E", c, 2)
        mantissa, _, exp = text.partition("E")
        if c.decimal in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(c.decimal)
        return f"{mantissa}E{exp}"
    rounded = _round(number, max(digits - 1 - exponent, 0))
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", c.decimal)


def _split_sections(pattern: str) -> list[str]:
    sections: list[str] = []
    current: list[str] = []
    quote = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == "\\" and i + 1 < len(pattern):
            current.append(pattern[i : i + 2])
            i += 1
        elif ch == ";":
            sections.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    sections.append("".join(current))
    return sections


def _custom(value: int | float, pattern: str, c: Culture) -> str:
    number = _decimal(value)
    sections = _split_sections(pattern)
    section = sections[0]
    signed = True
    if number < 0 and len(sections) > 1 and sections[1]:
        section, signed = sections[1], False
    elif number == 0 and len(sections) > 2 and sections[2]:
        section, signed = sections[2], False

    # Tokenize: placeholders '0' '#', '.', ',', '%', literals.
    prefix: list[str] = []
    suffix: list[str] = []
    int_zeros = 0
    int_places = 0
    frac_zeros = 0
    frac_places = 0
    grouping = False
    scale_commas = 0
    percent = 0
    seen_placeholder = False
    in_fraction = False
    pending_commas = 0
    i = 0
    while i < len(section):
        ch = section[i]
        if ch in "'\"":
            close = section.find(ch, i + 1)
            close = len(section) if close < 0 else close
            (suffix if seen_placeholder else prefix).append(section[i + 1 : close])
            i = close + 1
            continue
        if ch == "\\" and i + 1 < len(section):
            (suffix if seen_placeholder else prefix).append(section[i + 1])
            i += 2
            continue
        if ch in "0#":
            if pending_commas and not in_fraction and seen_placeholder:
                grouping = True
            pending_commas = 0
            seen_placeholder = True
            suffix = []
            if in_fraction:
                frac_places += 1
                if ch == "0":
                    frac_zeros = frac_places
            else:
                int_places += 1
                if ch == "0" or int_zeros:
                    int_zeros += 1
        elif ch == "." and not in_fraction:
            in_fraction = True
            scale_commas += pending_commas
            pending_commas = 0
            seen_placeholder = True
        elif ch == "," and not in_fraction:
            pending_commas += 1
        elif ch == "%":
            percent += 1
            (suffix if seen_placeholder else prefix).append(c.percent.replace("n", "").strip() or "%")
        else:
            (suffix if seen_placeholder else prefix).append(ch)
        i += 1
    scale_commas += pending_commas
    magnitude = abs(number) * (Decimal(100) ** percent) / (Decimal(1000) ** scale_commas)
    rounded = _round(magnitude, frac_places)
    text = format(rounded, "f")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) < frac_zeros:
        fraction = fraction.ljust(frac_zeros, "0")
    whole = whole.lstrip("0")
    if len(whole) < int_zeros:
        whole = whole.zfill(int_zeros)
    if grouping and whole:
        whole = _group(whole, c.group)
    body = whole + (c.decimal + fraction if fraction else "")
    sign = "-" if signed and number < 0 and rounded != 0 else ""
    return sign + "".join(prefix) + body + "".join(suffix)


def parse_localized_number(text: str, locale: str, allow_fraction: bool) -> int | float | None:
    """The number `text` spells in `locale`, or None; integers need plain digits (int.TryParse)."""
    c = culture(locale)
    value = text.strip()
    if not value:
        return None
    sign = ""
    if value[0] in "+-":
        sign, value = value[0], value[1:]
    if not allow_fraction:
        if value.isdigit() and value.isascii():
            number = int(sign + value)
            return number if -(2**63) <= number < 2**63 else None
        return None
    mantissa, exponent = value, ""
    for marker in ("e", "E"):
        if marker in value:
            mantissa, _, exponent = value.partition(marker)
            if not exponent.lstrip("+-").isdigit():
                return None
            break
    whole, _, fraction = mantissa.partition(c.decimal)
    if c.decimal in fraction:
        return None
    whole = whole.replace(c.group, "")
    if c.group == _NBSP:
        whole = whole.replace(" ", "")
    if not (whole or fraction) or not (whole == "" or (whole.isdigit() and whole.isascii())):
        return None
    if fraction and not (fraction.isdigit() and fraction.isascii()):
        return None
    try:
        return float(f"{sign}{whole or '0'}.{fraction or '0'}" + (f"e{exponent}" if exponent else ""))
    except (ValueError, OverflowError):
        return None
