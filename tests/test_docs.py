"""docs/backprop.md quotes torchann's code; every quote must still be there.

The document's convention for inline code spans (text between single
backticks, outside fenced blocks):

* a span with a space or one of ( [ = @ * is a quote of torchann/**/*.py, with
  comments left out and runs of whitespace counted as one space. A quote that
  starts a statement is the whole statement (so `return grad_output` cannot be
  satisfied by `return grad_output * a * (1 - a)`); any other quote is part of
  one statement. Docstrings do not count as code;
* otherwise a span with a / is a file of this repository, optionally followed
  by ::name of a function defined in it;
* any other span is a plain name: each of its words must be a word of the code.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "backprop.md"
QUOTE = re.compile(r"[ (\[=@*]")
# The document must keep quoting each step, so the check above cannot pass on an empty page.
KEY_QUOTES = [
    "return grad_output * a * (1 - a)",                       # sigmoid's g'(z) = a(1 − a)
    "return grad_output * (1 - a * a)",                       # tanh's g'(z) = 1 − a²
    "z = torch.addmm(self.bias, a_in, self.weight)",          # I.   z = a W + b
    "activations.append(g(activations[-1] @ W + b))",         # I.   (explicit)
    "incoming = delta @ self.weights[l].mT",                  # II.  δ_{l+1} W_{l+1}ᵀ
    "grads.append(a_in.mT @ delta)",                          # III. a_{l−1}ᵀ δ_l
    "grads.append(delta.sum(dim=-2, keepdim=True))",          # III. Σ δ_l
    "p.sub_(grad, alpha=lr_now)",                             # IV.  p ← p − η ∂E/∂p
]


def statements(source: str) -> list[str]:
    """Each statement line (logical line) of ``source``, without comments or docstrings."""
    scopes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    docstrings = {node.body[0].lineno for node in ast.walk(ast.parse(source))
                  if isinstance(node, scopes) and ast.get_docstring(node, clean=False) is not None}
    lines, found, first = source.splitlines(), [], None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
        elif token.type == tokenize.NEWLINE:
            if first not in docstrings:
                found.append(" ".join(" ".join(lines[first - 1:token.start[0]]).split()))
            first = None
        elif first is None and token.type not in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            first = token.start[0]
    return found


STATEMENTS = [line for path in sorted((ROOT / "torchann").rglob("*.py"))
              for line in statements(path.read_text(encoding="utf-8"))]
WORDS = {word for line in STATEMENTS for word in re.findall(r"\w+", line)}


def code_spans() -> list[str]:
    text = re.sub(r"```.*?```", "", DOC.read_text(encoding="utf-8"), flags=re.S)
    return re.findall(r"`([^`\n]+)`", text)


def still_there(span: str) -> bool:
    if QUOTE.search(span):
        quote = " ".join(span.split())
        return any(line == quote or line.find(quote, 1) > 0 for line in STATEMENTS)
    if "/" in span:
        path, _, name = span.partition("::")
        file = ROOT / path
        return file.is_file() and (not name or f"def {name}(" in file.read_text(encoding="utf-8"))
    return set(re.findall(r"\w+", span)) <= WORDS


def test_every_code_span_in_backprop_md_is_still_in_the_code():
    missing = [span for span in code_spans() if not still_there(span)]
    assert not missing, ("docs/backprop.md quotes code, names or files that are gone "
                         "(update the page or the code):\n" + "\n".join(missing))


def test_backprop_md_quotes_every_step_of_the_derivation():
    quotes = {span for span in code_spans() if QUOTE.search(span)}
    unquoted = [quote for quote in KEY_QUOTES if quote not in quotes]
    assert not unquoted, f"docs/backprop.md no longer quotes: {unquoted}"
    assert len(quotes) >= 30, f"only {len(quotes)} quotes"
