"""Ask the processor to start loading a value that a kernel will read soon.

A pass over the ties reads each neighbour's value by index: at country scale (20 million
agents, 195 million tie ends) the values do not fit in the caches and each read waits on
memory. :func:`prefetch` (LLVM's ``llvm.prefetch`` intrinsic) lets a kernel name the value
it will read a few ties later, so that the loads overlap. It changes no result: it reads
nothing and writes nothing, and an address it is given is never dereferenced (a hint, not
a load). Measured on the 2-core reference machine (benchmarks/README.md): a walk over 200
million random tie ends 1.02 → 0.83 s; on the flagship's own network at full scale, the
Friedkin–Johnsen step 0.91–0.96 → 0.78 s and a count of the neighbours' answers 0.61 →
0.48 s.

Where the intrinsic cannot be compiled (a Numba built on an LLVM that refuses it),
:func:`prefetch` is a function that does nothing, and kernels run as before.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["AHEAD", "prefetch"]

#: how many tie ends ahead a walk asks for (about three agents of mean degree 10)
AHEAD = 32


@intrinsic
def _llvm_prefetch(typingctx, arr, idx):
    """``llvm.prefetch`` of ``arr[idx]`` (read, high locality, data cache)."""
    if not isinstance(arr, types.Array) or arr.ndim != 1 or not isinstance(idx, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        at = context.cast(builder, args[1], idxty, types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [at], wraparound=False)
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, byte), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, idx), codegen


@njit(cache=True, inline="always")
def _with_intrinsic(values, at):
    _llvm_prefetch(values, at)


@njit(cache=True, inline="always")
def _without(values, at):
    pass


def _compiles() -> bool:
    import numpy as np

    try:
        _with_intrinsic(np.zeros(1), 0)
    except Exception:  # any compilation failure: fall back to nothing
        return False
    return True


#: ``prefetch(values, at)``: start loading ``values[at]`` (``at`` must be a valid index)
prefetch = _with_intrinsic if _compiles() else _without
