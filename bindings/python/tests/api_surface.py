"""Prints the public surface of the `gearman` package importable by this interpreter as JSON:
{"module.name" or "module.Class.member": description}. Run by test_api_surface.py under our
venv and under pygearman's, which both install a top-level `gearman`."""

import __future__
import importlib
import inspect
import json
import logging
import sys
import types

MODULES = ["gearman", "gearman.admin_client", "gearman.admin_client_handler", "gearman.client",
           "gearman.client_handler", "gearman.command_handler", "gearman.compat", "gearman.connection",
           "gearman.connection_manager", "gearman.constants", "gearman.errors", "gearman.io", "gearman.job",
           "gearman.protocol", "gearman.util", "gearman.version", "gearman.worker", "gearman.worker_handler"]


def signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(?)"


def value(obj):
    if isinstance(obj, dict):
        return "dict " + repr(sorted((repr(k), repr(v)) for k, v in obj.items()))
    if isinstance(obj, (set, frozenset)):
        return "set " + repr(sorted(repr(v) for v in obj))
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, tuple)):
        return "value " + repr(obj)
    return "object " + type(obj).__name__


def describe_class(prefix, cls, out):
    """The class's bases and every public member it has, inherited ones included, so where a
    method is defined along the class hierarchy does not matter."""
    out[prefix] = "class(%s)" % ", ".join(b.__name__ for b in cls.__bases__)
    for name in dir(cls):
        if name.startswith("_") and name != "__init__":
            continue
        member = inspect.getattr_static(cls, name)
        if name == "__init__" and member is object.__init__:
            continue
        key = "%s.%s" % (prefix, name)
        if isinstance(member, (classmethod, staticmethod)):
            out[key] = "%s%s" % (type(member).__name__, signature(member.__func__))
        elif isinstance(member, property):
            out[key] = "property"
        elif inspect.isfunction(member):
            out[key] = "method" + signature(member)
        elif inspect.isclass(member):
            out[key] = "class attribute " + member.__name__
        else:
            out[key] = "attribute " + value(member)


def surface():
    out = {}
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            out[module_name] = "missing module: %s" % e
            continue
        out[module_name] = "module"
        for name, obj in vars(module).items():
            if name.startswith("_") and name not in ("__version__", "__version_info__"):
                continue
            if isinstance(obj, (types.ModuleType, logging.Logger, __future__._Feature)):
                continue  # imported modules, loggers, `from __future__` flags
            key = "%s.%s" % (module_name, name)
            owner = getattr(obj, "__module__", "") or ""
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if not owner.startswith("gearman"):
                    continue  # imported from the standard library
                if owner != module_name:
                    out[key] = "imported"
                    continue
                if inspect.isclass(obj):
                    describe_class(key, obj, out)
                else:
                    out[key] = "function" + signature(obj)
            else:
                out[key] = value(obj)
    return out


if __name__ == "__main__":
    json.dump(surface(), sys.stdout, indent=0, sort_keys=True)
