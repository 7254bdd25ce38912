#!/usr/bin/env python3
"""Finds import cycles among the files of each crate of the workspace.

A file depends on another when its code (a `use` statement that is not a re-export, or a
path written in the code) names an item of the other file. Re-exports (`pub use`,
`pub(crate) use`) are followed to the file that defines the item, so a parent module that
only re-exports its children does not count as depending on them, and a child that names
`super::Thing` depends on the file where `Thing` is really defined.

Declaring a child (`mod child;`) is structure, not a dependency.

Usage: scripts/module-cycles.py [CRATE_DIR ...]   (default: every crate under crates/ and tests/)
Exit status 1 when any crate has a cycle; each cycle is printed as a chain of files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMENT_LINE = re.compile(r"//[^\n]*")
COMMENT_BLOCK = re.compile(r"/\*.*?\*/", re.S)
STRING = re.compile(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'')
USE = re.compile(r"(?m)^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
MOD_DECL = re.compile(r"(?m)^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")
INLINE_MOD = re.compile(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{")
DEFINITION = r"\b(?:struct|enum|fn|trait|type|const|static|union|mod|macro_rules!)\s+{name}\b"
PATH = re.compile(r"(?<![\w:])((?:[A-Za-z_]\w*)(?:::[A-Za-z_]\w*)+)")


def strip(text: str) -> str:
    text = COMMENT_BLOCK.sub(" ", text)
    text = STRING.sub('""', text)
    return COMMENT_LINE.sub("", text)


def expand(tree: str, prefix: list[str]) -> list[tuple[list[str], str]]:
    """`a::{b, c::d as e}` -> [(['a','b'], 'b'), (['a','c','d'], 'e')]"""
    tree = " ".join(tree.split())
    out: list[tuple[list[str], str]] = []
    # split at the first top-level brace
    if "{" in tree:
        head, _, rest = tree.partition("{")
        body = rest[: rest.rfind("}")]
        head_parts = [p for p in head.strip().rstrip(":").split("::") if p.strip()]
        depth, start, items = 0, 0, []
        for i, ch in enumerate(body):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(body[start:i])
                start = i + 1
        items.append(body[start:])
        for item in items:
            if item.strip():
                out.extend(expand(item.strip(), prefix + [p.strip() for p in head_parts]))
        return out
    alias = None
    if " as " in tree:
        tree, alias = (s.strip() for s in tree.split(" as ", 1))
    parts = prefix + [p.strip() for p in tree.split("::") if p.strip()]
    if parts and parts[-1] == "self":
        parts = parts[:-1]
    name = alias or (parts[-1] if parts else "")
    out.append((parts, name))
    return out


class Crate:
    def __init__(self, src: Path, root_file: Path):
        self.src = src
        self.files: dict[tuple[str, ...], Path] = {}
        self.text: dict[tuple[str, ...], str] = {}
        self.children: dict[tuple[str, ...], set[str]] = {}
        self._load((), root_file)

    def _load(self, module: tuple[str, ...], path: Path) -> None:
        if module in self.files or not path.exists():
            return
        self.files[module] = path
        text = strip(path.read_text(encoding="utf-8"))
        # An inline module (`mod tests { use super::*; }`) sits inside this file: its
        # `super` is this file's own module.
        inline = INLINE_MOD.search(text)
        if inline:
            text = text[: inline.start()] + text[inline.start() :].replace("super::", "self::")
        self.text[module] = text
        self.children[module] = set()
        if path.name in ("lib.rs", "main.rs", "mod.rs"):
            base = path.parent
        else:
            base = path.parent / path.stem
        for name in MOD_DECL.findall(text):
            self.children[module].add(name)
            for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
                if candidate.exists():
                    self._load(module + (name,), candidate)
                    break

    def absolute(self, module: tuple[str, ...], parts: list[str]) -> list[str] | None:
        """A path as written in `module`, from the crate root; None when external."""
        if not parts:
            return None
        if parts[0] == "crate":
            return parts[1:]
        if parts[0] in ("self", "super"):
            here = list(module)
            while parts and parts[0] in ("self", "super"):
                if parts[0] == "super":
                    if not here:
                        return None
                    here.pop()
                parts = parts[1:]
            return here + parts
        if parts[0] in self.children.get(module, ()):
            return list(module) + parts
        return None

    def names(self, module: tuple[str, ...]) -> dict[str, list[str]]:
        """Names a file brings in with `use`: name -> absolute path."""
        found: dict[str, list[str]] = {}
        for _vis, tree in USE.findall(self.text[module]):
            for parts, name in expand(tree, []):
                absolute = self.absolute(module, parts)
                if absolute is not None and name and name != "*":
                    found[name] = absolute
        return found

    def globs(self, module: tuple[str, ...]) -> list[list[str]]:
        out = []
        for _vis, tree in USE.findall(self.text[module]):
            for parts, name in expand(tree, []):
                if name == "*":
                    absolute = self.absolute(module, parts[:-1])
                    if absolute is not None:
                        out.append(absolute)
        return out

    def resolve(self, path: list[str], seen: frozenset = frozenset()) -> tuple[str, ...] | None:
        """The file that defines what `path` (from the root) names."""
        key = tuple(path)
        if key in seen:
            return None
        seen = seen | {key}
        # the longest prefix that is a module file
        for cut in range(len(path), -1, -1):
            module = tuple(path[:cut])
            if module in self.files:
                break
        else:
            return None
        rest = path[cut:]
        if not rest:
            return module
        name = rest[0]
        if re.search(DEFINITION.format(name=re.escape(name)), self.text[module]):
            return module
        names = self.names(module)
        if name in names:
            return self.resolve(names[name] + rest[1:], seen)
        for glob in self.globs(module):
            target = self.resolve(glob + rest, seen)
            if target is not None:
                return target
        return module

    def edges(self) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
        graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in self.files}
        for module, text in self.text.items():
            paths: list[list[str]] = []
            for vis, tree in USE.findall(text):
                if vis:  # a re-export: followed when resolving, not a dependency itself
                    continue
                for parts, name in expand(tree, []):
                    paths.append(parts[:-1] if name == "*" else parts)
            body = USE.sub("", text)
            body = MOD_DECL.sub("", body)
            for match in PATH.findall(body):
                paths.append(match.split("::"))
            for parts in paths:
                absolute = self.absolute(module, parts)
                if absolute is None:
                    continue
                target = self.resolve(absolute)
                if target is not None and target != module:
                    graph[module].add(target)
        return graph


def cycles(graph):
    """Strongly connected components with more than one file."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def crate_roots(dirs: list[Path]):
    for crate in dirs:
        src = crate / "src"
        for root in (src / "lib.rs", src / "main.rs"):
            if root.exists():
                yield crate, root
        tests = crate / "tests"
        if tests.is_dir():
            for entry in sorted(tests.iterdir()):
                if entry.suffix == ".rs":
                    yield crate, entry
                elif (entry / "main.rs").exists():
                    yield crate, entry / "main.rs"


def main(argv: list[str]) -> int:
    dirs = [Path(a).resolve() for a in argv] or sorted(
        [p for p in (ROOT / "crates").iterdir() if (p / "Cargo.toml").exists()] + [ROOT / "tests"]
    )
    found = 0
    checked = 0
    for crate, root_file in crate_roots(dirs):
        c = Crate(crate, root_file)
        checked += len(c.files)
        for component in cycles(c.edges()):
            found += 1
            files = sorted(str(c.files[m].relative_to(ROOT)) for m in component)
            print(f"import cycle in {crate.name}: " + " <-> ".join(files))
    if found:
        print(f"{found} import cycle(s) among {checked} files")
        return 1
    print(f"no import cycles among {checked} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
