"""Wrap the words a check module shows the learner for translation: ``python tools/wrap_messages.py FILE...``.

Every string literal or f-string that reads as prose (docstrings, dict keys, comparisons, and the arguments
of ValueError/TypeError/KeyError/GraderError... excepted) becomes ``_("... {name} ...").format(name=...)``,
keeping the literal's line breaks, so that a diff shows only the wrapped lines. Review the result: a string
that is data (an op name, a key, a message compared with another library's) must stay as it was, and a
module-level constant must not call ``_`` at import (the language is chosen later; see NAN_AT_P1 in
autograder/dropout.py). Add ``from autograder.i18n import _`` to the module, rename a local ``_`` that a
function assigns, then run ``python -m autograder.catalogs`` and translate (README, "For contributors").
"""
import ast, re, sys, io, tokenize

SKIP_CALLS = {"ValueError", "TypeError", "KeyError", "GraderError", "BadRecord", "RuntimeError", "AttributeError",
              "ObjectData", "getattr", "setattr", "hasattr", "startswith", "endswith", "split", "join", "replace",
              "isinstance", "warn", "filterwarnings", "catch_warnings", "compile", "register_buffer", "format", "_",
              "seen_add", "add", "get", "pop", "einsum", "reshape"}

def is_docstring(node, parents):
    p = parents.get(node)
    if isinstance(p, ast.Expr):
        gp = parents.get(p)
        if isinstance(gp, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and gp.body and gp.body[0] is p:
            return True
    return False

def prose(text):
    return bool(re.search(r"[A-Za-z]{2,}.*\s+.*[A-Za-z]", text)) or bool(re.search(r"\s[A-Za-z]{2,}", text))

def ident(src, used):
    try:
        e = ast.parse(src, mode="eval").body
    except SyntaxError:
        e = None
    if isinstance(e, ast.IfExp):
        return "detail"
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in ("list", "tuple", "str", "repr", "int", "float", "sorted") and len(e.args) == 1:
        return ident(ast.get_source_segment(src, e.args[0]), used)
    if isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Constant) and isinstance(e.slice.value, str):
        return ident(e.slice.value, used)
    name = re.sub(r"\W+", "_", src).strip("_").lower()
    name = re.sub(r"^(self_|inputs_)", "", name)
    if len(name) > 24:
        name = name[:24].rstrip("_")
    if not name or name[0].isdigit():
        name = "v_" + name
    if name in ("_",):
        name = "value"
    return name

def main(path):
    src = open(path).read()
    tree = ast.parse(src)
    parents = {}
    for n in ast.walk(tree):
        for c in ast.iter_child_nodes(n):
            parents[c] = n
    lines = src.splitlines(keepends=True)
    offs = [0]
    for l in lines:
        offs.append(offs[-1] + len(l))
    def pos(lineno, col):
        return offs[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())
    edits = []
    def skip(node):
        # inside a skipped call / subscript / dict key / comparison / docstring
        cur = node
        while cur in parents:
            p = parents[cur]
            if isinstance(p, ast.Call):
                f = p.func
                fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                if fname in SKIP_CALLS and cur is not p.func:
                    return True
                if fname == "recognised" and p.args and cur is p.args[0]:
                    return True
            if isinstance(p, ast.Subscript) and cur is p.slice and cur is node:
                return True
            if isinstance(p, ast.Compare):
                return True
            if isinstance(p, ast.Dict) and cur is node and cur in p.keys:
                return True
            if isinstance(p, (ast.FunctionDef, ast.Module)):
                return False
            if isinstance(p, ast.JoinedStr):
                return True  # nested: handled by the outer one
            cur = p
        return False
    for node in ast.walk(tree):
        is_const = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if not (is_const or isinstance(node, ast.JoinedStr)):
            continue
        if is_const and (is_docstring(node, parents) or isinstance(parents.get(node), ast.JoinedStr)):
            continue
        if skip(node):
            continue
        literal = node.value if is_const else "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        if not prose(literal):
            continue
        seg = ast.get_source_segment(src, node)
        toks = [t for t in tokenize.generate_tokens(io.StringIO(seg).readline)]
        pieces, used, names = [], {}, {}
        last_end = None
        out = ""
        for t in toks:
            if t.type not in (tokenize.STRING,):
                continue
            if last_end is not None:
                # keep what separated the parts (line break and indentation)
                lines_seg = seg.splitlines(keepends=True)
                def off(rc):
                    return sum(len(l) for l in lines_seg[:rc[0]-1]) + rc[1]
                out += seg[off(last_end):off(t.start)]
            part = ast.parse(t.string, mode="eval").body
            text = ""
            if isinstance(part, ast.Constant):
                text = part.value.replace("{", "{{").replace("}", "}}")
            else:
                for v in part.values:
                    if isinstance(v, ast.Constant):
                        text += v.value.replace("{", "{{").replace("}", "}}")
                    else:
                        esrc = ast.get_source_segment(t.string, v.value)
                        if esrc in names:
                            name = names[esrc]
                        else:
                            base = ident(esrc, used); name = base; k = 2
                            while name in used:
                                name = f"{base}{k}"; k += 1
                            used[name] = esrc; names[esrc] = name
                        conv = {-1: "", 114: "!r", 115: "!s", 97: "!a"}[v.conversion]
                        spec = ""
                        if v.format_spec is not None:
                            spec = ":" + "".join(x.value if isinstance(x, ast.Constant) else "{?}" for x in v.format_spec.values)
                        text += "{%s%s%s}" % (name, conv, spec)
            out += repr(text) if '"' in text and "'" not in text else '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
            last_end = t.end
        braces = "{" in out
        kw = ", ".join(f"{n}={e}" for n, e in used.items())
        new = "_(" + out + ")" + (f".format({kw})" if used or braces else "")
        edits.append((pos(node.lineno, node.col_offset), pos(node.end_lineno, node.end_col_offset), new, node.lineno))
    edits.sort()
    out = src
    for a, b, new, ln in reversed(edits):
        out = out[:a] + new + out[b:]
    open(path, "w").write(out)
    print(path, len(edits), "edits", file=sys.stderr)

for p in sys.argv[1:]:
    main(p)
