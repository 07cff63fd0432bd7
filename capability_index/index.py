"""The capability index: one Chroma entry per declared capability.

The SQLite card store is the source of truth; this index is derived from it and
can always be rebuilt (``micromarket index rebuild``). Entries are keyed
``"<specialist_id>.<capability>"``; the document is the capability text built by
:func:`capability_text`; we embed ourselves (the collection has no embedding
function) so that the model is loaded once and queries are embedded in batches.

Embedded Chroma (PersistentClient) allows one writing process per directory:
writes take :class:`capability_index.lock.WriterLock`. In server mode
(``settings.chroma_url``) Chroma serialises writes and no lock is taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from micromarket.capability_index.cards import SpecialistCard
from micromarket.capability_index.entries import (  # noqa: F401 - re-exported: the index's public vocabulary
    DOMAIN_FLAG,
    Hit,
    build_where,
    capability_text,
    entry_fingerprint,
    entry_metadata,
    matches_where,
    public_metadata,
    split_identifier,
)
from micromarket.capability_index.lock import NullLock, WriterLock

from micromarket.errors import IndexMismatchError, InputError, MicromarketError
from micromarket.settings import Settings

COLLECTION = "capabilities"
REBUILD_HINT = "micromarket index rebuild"
EMBED_BATCH = 128

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while capabilities are embedded and written (the caller renders it)."""


class CapabilityIndex:
    """Chroma collection ``capabilities`` (cosine), one entry per capability."""

    def __init__(self, settings: Settings, *, check: bool = True):
        """Open (or create) the index. With ``check=False`` an index built with another
        embedding model can be opened — only to :meth:`rebuild` it."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.settings = settings
        self.model = settings.embedding_model
        self._embeddings = None
        self._dim: int | None = None
        self.generation = 0  # bumped on every write from this object; readers cache against it
        csettings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_url:
            from urllib.parse import urlparse

            u = urlparse(settings.chroma_url)
            if not u.hostname:
                raise InputError(f"MICROMARKET_CHROMA_URL is not a URL: {settings.chroma_url!r}")
            self.client = chromadb.HttpClient(
                host=u.hostname,
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                settings=csettings,
            )
            self._lock: Any = NullLock()
            self.location = settings.chroma_url
        else:
            settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=csettings)
            self._lock = WriterLock(settings.chroma_dir)
            self.location = str(settings.chroma_dir)
        self._col = None
        existing = self._get_existing()
        if existing is not None:
            self._col = existing
            if check:
                self._check_model(existing.metadata or {})

    # -- collection handling

    def _get_existing(self):
        try:
            return self.client.get_collection(COLLECTION, embedding_function=None)
        except Exception as e:  # noqa: BLE001  (NotFoundError / ValueError depending on version)
            if "does not exist" in str(e).lower() or "not found" in str(e).lower() or type(e).__name__ == "NotFoundError":
                return None
            raise

    def _check_model(self, md: Mapping[str, Any], *, dim: int | None = None) -> None:
        built_model = md.get("embedding_model")
        built_dim = md.get("embedding_dim")
        if built_model is not None and built_model != self.model:
            raise IndexMismatchError(
                f"the capability index at {self.location} was built with embedding model {built_model!r} "
                f"(dimension {built_dim}), but {self.model!r} is configured. "
                f"Run `{REBUILD_HINT}` to re-embed every capability with the configured model."
            )
        if dim is not None and built_dim is not None and int(built_dim) != int(dim):
            raise IndexMismatchError(
                f"the capability index at {self.location} has dimension {built_dim}, but embedding model "
                f"{self.model!r} produces {dim}. Run `{REBUILD_HINT}` to re-embed every capability."
            )

    def _collection_metadata(self) -> dict[str, Any]:
        return {"hnsw:space": "cosine", "embedding_model": self.model, "embedding_dim": self.dim}

    @property
    def collection(self):
        if self._col is None:
            with self._lock:
                col = self._get_existing()
                if col is None:
                    col = self.client.get_or_create_collection(
                        COLLECTION, embedding_function=None, metadata=self._collection_metadata()
                    )
                self._col = col
        return self._col

    # -- embeddings

    @property
    def embeddings(self):
        if self._embeddings is None:
            from micromarket.capability_index.embeddings import get_embeddings  # deferred: chromadb, numpy

            self._embeddings = get_embeddings(self.model)
        return self._embeddings

    @property
    def dim(self) -> int:
        if self._dim is None:
            from micromarket.capability_index.embeddings import embedding_dim  # deferred: chromadb, numpy

            self._dim = embedding_dim(self.model)
            if self._col is not None:
                self._check_model(self._col.metadata or {}, dim=self._dim)
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """One batched embedding call; rows L2-normalised, float32."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        _ = self.dim  # dimension check against the collection
        emb = self.embeddings
        v = np.asarray(emb.embed_documents(list(texts)), dtype=np.float32)
        n = np.linalg.norm(v, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return v / n

    # -- writes

    def _all(self, include: list[str]) -> dict[str, Any]:
        col = self.collection
        n = col.count()
        if n == 0:
            return {"ids": [], "metadatas": [], "documents": [], "embeddings": []}
        out: dict[str, list] = {"ids": [], "metadatas": [], "documents": [], "embeddings": []}
        page = 5000
        for off in range(0, n, page):
            got = col.get(include=include, limit=page, offset=off)
            out["ids"].extend(got["ids"])
            for name in ("metadatas", "documents", "embeddings"):
                vals = got.get(name)
                if name in include and vals is not None:
                    out[name].extend(list(vals))
        return out

    def upsert(
        self,
        cards: Iterable[SpecialistCard],
        *,
        progress: ProgressFn | None = None,
    ) -> int:
        """Index every capability of ``cards``. Unchanged entries are skipped, capabilities a
        card no longer declares are removed. Returns the number of entries written.
        ``progress(done, total)`` is called before the first and after every written batch."""
        cards = list(cards)
        with self._lock:
            col = self.collection
            existing = self._all(["metadatas"])
            by_id = dict(zip(existing["ids"], existing["metadatas"]))
            to_embed: list[tuple[str, str, dict[str, Any]]] = []
            stale_ids: list[str] = []
            for card in cards:
                new_keys = set()
                for cap in card.capabilities:
                    key = card.key(cap.name)
                    new_keys.add(key)
                    doc = capability_text(card, cap)
                    fp = entry_fingerprint(card, cap, doc)
                    old = by_id.get(key)
                    if old is not None and old.get("fingerprint") == fp:
                        continue
                    md = entry_metadata(card, cap, fp)
                    to_embed.append((key, doc, md))
                for oid, omd in by_id.items():
                    if (omd or {}).get("specialist_id") == card.id and oid not in new_keys:
                        stale_ids.append(oid)
            if stale_ids:
                col.delete(ids=stale_ids)
            done = 0
            if progress is not None and to_embed:
                progress(0, len(to_embed))

            def write(batch, vecs) -> None:
                nonlocal done
                col.upsert(
                    ids=[k for k, _, _ in batch],
                    documents=[d for _, d, _ in batch],
                    metadatas=[m for _, _, m in batch],
                    embeddings=vecs,
                )
                done += len(batch)
                if progress is not None:
                    progress(done, len(to_embed))

            # Pipelined: batch i is written to Chroma in a worker thread while batch i+1 is
            # embedded (both release the GIL), so ingest runs at the embedding model's speed.
            pending = None
            pool = None
            try:
                for off in range(0, len(to_embed), EMBED_BATCH):
                    batch = to_embed[off : off + EMBED_BATCH]
                    vecs = self.embed([d for _, d, _ in batch])
                    if len(to_embed) <= EMBED_BATCH:
                        write(batch, vecs)
                        continue
                    if pool is None:
                        from concurrent.futures import ThreadPoolExecutor

                        pool = ThreadPoolExecutor(1, thread_name_prefix="micromarket-index-write")
                    if pending is not None:
                        pending.result()  # at most one write in flight; re-raises a write error
                    pending = pool.submit(write, batch, vecs)
                if pending is not None:
                    pending.result()
            finally:
                if pool is not None:
                    pool.shutdown(wait=True)
            if to_embed or stale_ids:
                self.generation += 1
        return len(to_embed)

    def _ids_of(self, specialist_id: str) -> tuple[list[str], list[dict[str, Any]]]:
        got = self.collection.get(where={"specialist_id": specialist_id}, include=["metadatas"])
        return list(got["ids"]), list(got["metadatas"] or [])

    def remove(self, specialist_id: str) -> int:
        with self._lock:
            ids, _ = self._ids_of(specialist_id)
            if ids:
                self.collection.delete(ids=ids)
                self.generation += 1
            return len(ids)

    def rebuild(
        self,
        cards: Iterable[SpecialistCard],
        *,
        progress: ProgressFn | None = None,
    ) -> int:
        """Drop the collection and re-create it from ``cards`` with the configured model."""
        cards = list(cards)
        with self._lock:
            try:
                self.client.delete_collection(COLLECTION)
            except Exception as e:  # noqa: BLE001
                if self._get_existing() is not None:
                    raise MicromarketError(f"cannot drop the capability index at {self.location}: {e}") from e
            self._col = self.client.get_or_create_collection(
                COLLECTION, embedding_function=None, metadata=self._collection_metadata()
            )
            self.generation += 1
            return self.upsert(cards, progress=progress)

    # -- reads

    def count(self) -> int:
        if self._col is None and self._get_existing() is None:
            return 0
        return self.collection.count()

    def snapshot(self) -> dict[str, Any]:
        """Everything in the collection: ids, documents, metadatas and an (n, dim) float32 matrix."""
        got = self._all(["metadatas", "documents", "embeddings"])
        emb = np.asarray(got["embeddings"], dtype=np.float32) if got["ids"] else np.zeros((0, self.dim), np.float32)
        return {"ids": got["ids"], "documents": got["documents"], "metadatas": got["metadatas"], "embeddings": emb}

    def verify(self, cards: Iterable[SpecialistCard]) -> dict[str, Any]:
        """Compare the index with the cards: missing, extra and stale (changed) entries."""
        expected: dict[str, str] = {}
        for card in cards:
            for cap in card.capabilities:
                expected[card.key(cap.name)] = entry_fingerprint(card, cap, capability_text(card, cap))
        got = self._all(["metadatas", "embeddings"]) if (self._col is not None or self._get_existing()) else {
            "ids": [], "metadatas": [], "embeddings": []
        }
        have = {}
        broken = []
        embs = got.get("embeddings") or []
        for i, (key, md) in enumerate(zip(got["ids"], got["metadatas"])):
            have[key] = (md or {}).get("fingerprint")
            if embs and (embs[i] is None or len(embs[i]) == 0):
                broken.append(key)
        missing = sorted(k for k in expected if k not in have)
        extra = sorted(k for k in have if k not in expected)
        stale = sorted({k for k in expected if k in have and have[k] != expected[k]} | {k for k in broken if k in expected})
        return {
            "ok": not (missing or extra or stale),
            "missing": missing,
            "extra": extra,
            "stale": stale,
            "count": len(have),
        }

    def search(self, queries: list[str], k: int = 8, where: dict | None = None) -> list[list[Hit]]:
        """Dense search only: one batched embedding call, one Chroma query."""
        if not queries:
            return []
        n = self.count()
        if n == 0 or k <= 0:
            return [[] for _ in queries]
        vecs = self.embed(list(queries))
        res = self.collection.query(
            query_embeddings=vecs,
            n_results=min(k, n),
            where=build_where(where),
            include=["metadatas", "distances"],
        )
        out: list[list[Hit]] = []
        for ids, mds, dists in zip(res["ids"], res["metadatas"], res["distances"]):
            hits = []
            for key, md, d in zip(ids, mds, dists):
                md = md or {}
                hits.append(
                    Hit(
                        key=key,
                        specialist_id=md.get("specialist_id", key.split(".", 1)[0]),
                        capability=md.get("capability", key.split(".", 1)[-1]),
                        similarity=float(min(1.0, max(0.0, 1.0 - float(d)))),
                        metadata=public_metadata(md),
                    )
                )
            out.append(hits)
        return out

    def close(self) -> None:
        self._col = None
        close = getattr(self.client, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self) -> CapabilityIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
