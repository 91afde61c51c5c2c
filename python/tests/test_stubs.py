"""The shipped type stubs (pixelwise/_pixelwise.pyi) name exactly what the
compiled module has: every public function, class, method and property on
both sides, so that the hand-written stubs cannot drift from the bindings."""
import ast
from pathlib import Path

import pixelwise
from pixelwise import _pixelwise


def stub_names():
    tree = ast.parse((Path(pixelwise.__file__).parent / "_pixelwise.pyi").read_text())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
                                  and not n.name.startswith("_")}
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.Assign):
            top.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
    return {name for name in top if not name.startswith("_") or name == "__version__"}, members


def test_stub_names_match_the_module():
    top, members = stub_names()
    module = {name for name in dir(_pixelwise) if not name.startswith("_")} | {"__version__"}
    assert top == module, (sorted(top - module), sorted(module - top))
    for cls, names in members.items():
        actual = {name for name in dir(getattr(_pixelwise, cls)) if not name.startswith("_")}
        assert names == actual, (cls, sorted(names - actual), sorted(actual - names))


def test_the_package_is_typed():
    assert (Path(pixelwise.__file__).parent / "py.typed").exists()
