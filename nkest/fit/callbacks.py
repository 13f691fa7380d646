"""nutpie's C callbacks for a model, compiled once per machine instead of once per process.

nutpie samples a PyMC model through two C callbacks that numba compiles: the
log density with its gradient, and the function that stores the
deterministics. PyTensor caches the numba kernels of the model's graphs on
disk, but nutpie (0.16) wraps them in callbacks that numba cannot cache: they
close over objects made afresh in every process (record types with random
field names), so a fresh process spends most of its compilation (about 6 of
10 s on the DPRK model) compiling the same wrappers again.

Here the wrappers are generated as source code whose only free names are the
model's two PyTensor kernels, and registered with PyTensor's numba cache under
a key made from the kernels' own cache keys and the layout of the data. A
second process with a model of the same structure loads both callbacks from
disk. The data are read through nutpie's own record of pointers, sizes and
shapes, at offsets fixed by the structure, so ``with_data`` and sampling work
exactly as with nutpie's wrappers; the draws are identical
(``tests/fit/test_callbacks.py``).

The wrappers depend on nutpie's private compilation steps, so they are used
only with the nutpie versions they were tested with (``TESTED_NUTPIE``); with
another version, with PyTensor's numba cache turned off, or when anything in
the cached path fails (a model's kernels that PyTensor cannot cache, an
unreadable cache entry), :func:`compile_nutpie_model` builds nutpie's own
callbacks and says why in the log.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from typing import Any

import numpy as np

__all__ = ["CALLBACK_VERSION", "TESTED_NUTPIE", "compile_nutpie_model"]

logger = logging.getLogger("nkest")

CALLBACK_VERSION = "1"
"""Part of every callback's cache key, with the generated source itself and the versions."""

TESTED_NUTPIE = ("0.16.",)
"""nutpie versions (prefixes) whose private compilation steps the cached path reuses."""

_LOGP_SIGNATURE = "int64(uint64, CPointer(float64), CPointer(float64), CPointer(float64), voidptr)"
_EXPAND_SIGNATURE = "int64(uint64, uint64, CPointer(float64), CPointer(float64), voidptr)"


def compile_nutpie_model(model: Any) -> Any:
    """Compile a PyMC model for nutpie, loading its callbacks from disk when it can.

    The result is the same object ``nutpie.compile_pymc_model(model)`` returns
    (a ``CompiledPyMCModel`` with nutpie's defaults: support-point initial
    values with jitter, every variable stored), and samples identically.

    Parameters
    ----------
    model : pymc.Model
        The model to compile.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
    """
    import numba
    import nutpie
    import pytensor
    from nutpie import compile_pymc as nutpie_pymc
    from pymc.initial_point import make_initial_point_fn
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    if not pytensor.config.numba__cache:
        logger.info("PyTensor's numba cache is off: compiling nutpie's way")
        return nutpie.compile_pymc_model(model)
    if not nutpie.__version__.startswith(TESTED_NUTPIE):
        logger.info("nutpie %s: not a version the cached callbacks know", nutpie.__version__)
        return nutpie.compile_pymc_model(model)

    initial_point_fn = make_initial_point_fn(
        model=model,
        default_strategy="support_point",
        jitter_rvs=set(model.free_RVs),
        return_transformed=True,
    )
    initial_point_fn = nutpie_pymc._wrap_with_lock(initial_point_fn)
    (
        n_dim,
        n_expanded,
        logp_fn_pt,
        expand_fn_pt,
        flat_initial_point_fn,
        shape_info,
        reparameterized_names,
    ) = nutpie_pymc._make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=initial_point_fn,
    )
    # As nutpie does: one read-only copy of each shared variable, found through a record.
    shared_data: dict[str, np.ndarray] = {}
    shared_var_keys: dict[Any, str] = {}
    for position, variable in enumerate([*logp_fn_pt.get_shared(), *expand_fn_pt.get_shared()]):
        if variable in shared_var_keys:
            continue
        key = f"data{position}"
        value = np.array(variable.get_value(), order="C", copy=True)
        value.flags.writeable = False
        shared_data[key] = value
        shared_var_keys[variable] = key
    user_data = nutpie_pymc.make_user_data(shared_var_keys, shared_data)
    logp_keys = [shared_var_keys[variable] for variable in logp_fn_pt.get_shared()]
    expand_keys = [shared_var_keys[variable] for variable in expand_fn_pt.get_shared()]
    try:
        layout = _record_layout(user_data.dtype, shared_data)
        kernels = [logp_fn_pt.vm.jit_fn, expand_fn_pt.vm.jit_fn]
        kernel_keys = [CACHED_SRC_FUNCTIONS.get(kernel.py_func) for kernel in kernels]
        if None in kernel_keys:
            raise _NotCacheable("PyTensor gives the model's compiled graphs no cache key")
        versions = (nutpie.__version__, pytensor.__version__, numba.__version__)
        sources = [
            ("logp_callback", _logp_source(n_dim, layout, logp_keys), _LOGP_SIGNATURE),
            (
                "expand_callback",
                _expand_source(n_dim, n_expanded, layout, expand_keys),
                _EXPAND_SIGNATURE,
            ),
        ]
        logp_func, expand_func = (
            _cached_cfunc(source, name, signature, kernel, _cache_key(name, key, source, versions))
            for (name, source, signature), kernel, key in zip(
                sources, kernels, kernel_keys, strict=True
            )
        )
    except Exception as error:  # a cache that fails must cost a compile, not a fit
        log = logger.info if isinstance(error, _NotCacheable) else logger.warning
        log("nutpie's callbacks not cached (%s): compiling them nutpie's way", error)
        logp_func, expand_func = _nutpie_callbacks(
            n_dim,
            n_expanded,
            logp_fn_pt,
            expand_fn_pt,
            user_data,
            logp_keys,
            expand_keys,
            shared_data,
        )
    dims, coords = nutpie_pymc._prepare_dims_and_coords(model, shape_info, reparameterized_names)
    return nutpie_pymc.CompiledPyMCModel(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=logp_func,
        compiled_expand_func=expand_func,
        initial_point_func=flat_initial_point_fn,
        shared_data=shared_data,
        shared_var_keys=shared_var_keys,
        user_data=user_data,
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_fn_pt,
        expand_func=expand_fn_pt,
        reparameterized_names=reparameterized_names,
    )


def _record_layout(
    dtype: np.dtype, shared_data: dict[str, np.ndarray]
) -> dict[str, tuple[int, tuple[int, ...], str]]:
    """Where nutpie's record keeps each array's pointer and shape, in 8-byte words.

    Returns, for each key, (word of the pointer, words of the shape, the
    array's dtype name). The record is packed and every field is
    8 bytes wide, which is checked rather than assumed.
    """
    shared = dtype["shared"]
    if dtype.itemsize % 8:
        raise ValueError("nutpie's data record is not made of 8-byte words")
    layout = {}
    for key, value in shared_data.items():
        start = dtype.fields["shared"][1]
        pointer = start + shared.fields["data"][1] + shared["data"].fields[key][1]
        shape_offset = start + shared.fields["shape"][1] + shared["shape"].fields[key][1]
        widths = (shared["data"][key].itemsize, shared["shape"][key].base.itemsize)
        if pointer % 8 or shape_offset % 8 or widths != (8, 8):
            raise ValueError("nutpie's data record is not made of 8-byte words")
        words = tuple(shape_offset // 8 + axis for axis in range(value.ndim))
        layout[key] = (pointer // 8, words, value.dtype.name)
    return layout


def _arrays_source(layout: dict, keys: list[str]) -> list[str]:
    lines = []
    for position, key in enumerate(keys):
        pointer, words, dtype = layout[key]
        shape = "".join(f"int(record[{word}]), " for word in words)
        lines.append(
            f"        a{position} = numba.carray(as_pointer(record[{pointer}]), "
            f"({shape}), np.{dtype})"
        )
    return lines


def _record_words(layout: dict) -> int:
    return 1 + max(
        [pointer for pointer, _, _ in layout.values()]
        + [word for _, words, _ in layout.values() for word in words],
        default=0,
    )


def _logp_source(n_dim: int, layout: dict, keys: list[str]) -> str:
    arrays = "".join(f", a{position}" for position in range(len(keys)))
    return "\n".join(
        [
            "def logp_callback(dim, x_, out_, logp_, user_data_):",
            f"    if dim != {n_dim}:",
            "        return -1",
            "    try:",
            f"        record = numba.carray(user_data_, ({_record_words(layout)},), np.uint64)",
            *_arrays_source(layout, keys),
            f"        x = numba.carray(x_, ({n_dim},))",
            f"        out = numba.carray(out_, ({n_dim},))",
            "        logp = numba.carray(logp_, ())",
            f"        logp_value, gradient = kernel(x{arrays})",
            "        logp[()] = logp_value",
            "        out[...] = gradient",
            "        if not np.all(np.isfinite(out)):",
            "            return 3",
            "        if not np.isfinite(logp_value):",
            "            return 4",
            "    except Exception:",
            "        return 1",
            "    return 0",
            "",
        ]
    )


def _expand_source(n_dim: int, n_expanded: int, layout: dict, keys: list[str]) -> str:
    arrays = "".join(f", a{position}" for position in range(len(keys)))
    return "\n".join(
        [
            "def expand_callback(dim, expanded, x_, out_, user_data_):",
            f"    if dim != {n_dim}:",
            "        return -1",
            f"    if expanded != {n_expanded}:",
            "        return -1",
            "    try:",
            f"        record = numba.carray(user_data_, ({_record_words(layout)},), np.uint64)",
            *_arrays_source(layout, keys),
            f"        x = numba.carray(x_, ({n_dim},))",
            f"        out = numba.carray(out_, ({n_expanded},))",
            f"        (values,) = kernel(x{arrays})",
            "        out[...] = values",
            "    except Exception:",
            "        return -2",
            "    return 0",
            "",
        ]
    )


def _cache_key(name: str, kernel_key: str, source: str, versions: tuple[str, ...]) -> str:
    """Return the callback's key: its kernel's key, its own source and the versions.

    numba's own index hashes a function's bytecode but not its constants, so
    the source text is in the key: any edit to the generated code is a new entry.
    """
    text = repr((CALLBACK_VERSION, name, kernel_key, source, versions))
    return f"nkest_{hashlib.sha256(text.encode()).hexdigest()}"


class _NotCacheable(Exception):
    """The model's callbacks cannot be cached (an expected case, logged, not warned)."""


def _cached_cfunc(source: str, name: str, signature: str, kernel, key: str):
    """Compile ``source``'s function as a C callback, cached by PyTensor under ``key``.

    An entry that cannot be loaded is cleared and compiled again, once.
    """
    import numba
    from numba.core.caching import FunctionCache
    from nutpie.compile_pymc import address_as_void_pointer
    from pytensor.link.numba.cache import compile_numba_function_src

    function = compile_numba_function_src(
        source,
        name,
        global_env={
            # numba's cache rebuilds a function's environment from its module by name.
            "__name__": __name__,
            "numba": numba,
            "np": np,
            "kernel": kernel,
            "as_pointer": address_as_void_pointer,
        },
        cache_key=key,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", numba.NumbaWarning)
        try:
            compiled = numba.cfunc(signature, cache=True)(function)
        except Exception as error:
            logger.warning("could not load the cached %s (%s): compiling it again", name, error)
            FunctionCache(function).flush()
            compiled = numba.cfunc(signature, cache=True)(function)
    for warning in caught:
        if "Cannot cache" in str(warning.message):
            raise _NotCacheable(f"numba cannot cache the {name}: {warning.message}")
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return compiled


def _nutpie_callbacks(
    n_dim, n_expanded, logp_fn_pt, expand_fn_pt, user_data, logp_keys, expand_keys, shared_data
):
    """Build nutpie's own callbacks from the functions already compiled."""
    import numba
    from nutpie import compile_pymc as nutpie_pymc

    logp_raw, logp_signature = nutpie_pymc._make_c_logp_func(
        n_dim, logp_fn_pt.vm.jit_fn, user_data, logp_keys, shared_data
    )
    expand_raw, expand_signature = nutpie_pymc._make_c_expand_func(
        n_dim, n_expanded, expand_fn_pt.vm.jit_fn, user_data, expand_keys, shared_data
    )
    return numba.cfunc(logp_signature)(logp_raw), numba.cfunc(expand_signature)(expand_raw)
