"""The figures of an RFC in the Markdown form of ../shared/specs: each fenced block as
(section, figure title, language, body), the body's layout indentation removed. Used
by extract_rfc9553.py and extract_rfc9555.py."""
import re


def figures(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    section, title, blocks = "", "", []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^#{2,5} (\d+(?:\.\d+)*)\.? ", line)
        if m:
            section = m.group(1)
        m = re.match(r"^\s*Figure: (.*)", line)
        if m:
            title = m.group(1)
        m = re.match(r"^(\s*)```(\w*)\s*$", line)
        if m:
            indent, lang = len(m.group(1)), m.group(2)
            body = []
            i += 1
            while not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            blocks.append((section, title, lang, "\n".join(body)))
        i += 1
    return blocks
