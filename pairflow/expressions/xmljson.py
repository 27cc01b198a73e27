"""XML ↔ JSON the way Logic Apps' `json(xml(…))` and `xml(json(…))` convert (Json.NET's rules):
attributes as "@name", text beside children as "#text", repeated elements as arrays, and the XML
declaration as "?xml". Parsing never resolves entities or reaches the network.
"""

from __future__ import annotations

import math
import re

from lxml import etree

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.values import XML_CONTENT_TYPE, content_bytes, is_content, make_content, to_string
from pairflow.jsontypes import JSON, JSONObject

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_DECLARATION = re.compile(r"^\s*<\?xml\s+([^?]*)\?>")
_DECL_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*["']([^"']*)["']""")


def parse_xml(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ExpressionEvaluationError(f"The value is not valid XML: {error}") from None


def xml_bytes(value: JSON, function: str) -> bytes:
    """The XML document a value holds: an XML content object or a string of XML."""
    if isinstance(value, dict) and is_content(value):
        return content_bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ExpressionEvaluationError(
        f"The template language function '{function}' expects XML (a string or the result of xml())"
    )


def xml_content(data: bytes) -> JSONObject:
    return make_content(data, XML_CONTENT_TYPE)


def _name(qname: str, nsmap: dict[str | None, str]) -> str:
    if qname.startswith("{"):
        uri, _, local = qname[1:].partition("}")
        for prefix, namespace in nsmap.items():
            if namespace == uri and prefix:
                return f"{prefix}:{local}"
        return local
    return qname


def _element_json(element: etree._Element) -> JSON:
    result: JSONObject = {}
    parent = element.getparent()
    parent_ns = parent.nsmap if parent is not None else {}
    for prefix, uri in element.nsmap.items():
        if parent_ns.get(prefix) != uri:
            result["@xmlns" if prefix is None else f"@xmlns:{prefix}"] = uri
    for key, value in element.attrib.items():
        result["@" + _name(str(key), element.nsmap)] = value
    children = [child for child in element if isinstance(child.tag, str)]
    texts = [element.text or ""] + [child.tail or "" for child in element]
    text = "".join(texts)
    if not children and not result:
        return text if text else None
    for child in children:
        name = _name(str(child.tag), child.nsmap)
        converted = _element_json(child)
        if name in result:
            existing = result[name]
            if isinstance(existing, list) and name in _repeated(element):
                existing.append(converted)
            else:
                result[name] = [existing, converted]
        else:
            result[name] = converted
    if text.strip():
        result["#text"] = text.strip() if children else text
    return result


def _repeated(element: etree._Element) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for child in element:
        if isinstance(child.tag, str):
            name = _name(str(child.tag), child.nsmap)
            if name in seen:
                repeated.add(name)
            seen.add(name)
    return repeated


def xml_to_json(data: bytes) -> JSONObject:
    root = parse_xml(data)
    result: JSONObject = {}
    match = _DECLARATION.match(data.decode("utf-8", errors="replace"))
    if match:
        result["?xml"] = {f"@{k}": v for k, v in _DECL_ATTRIBUTE.findall(match.group(1))}
    result[_name(str(root.tag), root.nsmap)] = _element_json(root)
    return result


def _scalar_text(value: JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_string(value)


def _valid_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][\w.\-]*(:[A-Za-z_][\w.\-]*)?", name):
        raise ExpressionEvaluationError(f"'{name}' is not a valid XML element or attribute name")
    return name


def _fill(element: etree._Element, value: JSON) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("@"):
                element.set(_valid_name(key[1:]), _scalar_text(item))
            elif key == "#text":
                element.text = _scalar_text(item)
            else:
                items = item if isinstance(item, list) else [item]
                for entry in items:
                    _fill(etree.SubElement(element, _valid_name(key)), entry)
    elif value is not None:
        element.text = _scalar_text(value)


def json_to_xml(value: JSON) -> bytes:
    if not isinstance(value, dict):
        raise ExpressionEvaluationError("xml() expects an object with exactly one root property")
    roots = [key for key in value if key != "?xml"]
    if len(roots) != 1 or isinstance(value[roots[0]], list):
        raise ExpressionEvaluationError(
            "xml() expects an object with exactly one root property, which can't be an array"
        )
    if ":" in roots[0]:
        raise ExpressionEvaluationError(f"'{roots[0]}' is not supported as a root element name")
    root = etree.Element(_valid_name(roots[0]))
    _fill(root, value[roots[0]])
    return bytes(etree.tostring(root, encoding="utf-8"))


def xpath(data: bytes, expression: str) -> JSON:
    root = parse_xml(data)
    try:
        result = root.getroottree().xpath(expression)
    except (etree.XPathError, ValueError) as error:
        raise ExpressionEvaluationError(
            f"The XPath expression '{expression}' is not valid: {error}"
        ) from None
    return _xpath_value(result)


def _xpath_value(result: object) -> JSON:
    if isinstance(result, bool):
        return result
    if isinstance(result, float):
        if not math.isfinite(result):
            return None
        return int(result) if result.is_integer() else result
    if isinstance(result, str):
        return str(result)
    if isinstance(result, list):
        items: list[JSON] = []
        for item in result:
            if isinstance(item, etree._Element):
                items.append(xml_content(etree.tostring(item, encoding="utf-8", with_tail=False)))
            else:
                items.append(str(item))
        return items
    return to_string(str(result))
