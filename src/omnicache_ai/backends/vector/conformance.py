"""The conformance suite every vector backend must pass, shipped for third-party backends.

Subclass :class:`VectorBackendConformance` in a test module and provide a ``make_backend``
fixture returning a factory ``(dim) -> VectorBackend`` for a fresh, empty store; pytest then
runs every test below against it. Backends in this package run it from ``tests/vector``.

Requires pytest (imported here, so import this module from tests only).

Example:
    A test module for your own backend::

        import pytest
        from omnicache_ai.backends.vector.conformance import VectorBackendConformance

        class TestMyBackend(VectorBackendConformance):
            @pytest.fixture
            def make_backend(self, tmp_path):
                return lambda dim: MyBackend(dim=dim, path=tmp_path)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pytest

from omnicache_ai.backends.vector.base import MetadataValue, VectorBackend

__all__ = ["BackendFactory", "VectorBackendConformance", "unit"]

#: Builds a fresh, empty backend of the given dimension.
BackendFactory = Callable[[int], VectorBackend]

DIM = 8


def unit(*values: float, dim: int = DIM) -> npt.NDArray[np.float32]:
    """A vector of ``dim`` floats starting with ``values`` (zero-padded), normalized.

    Example:
        >>> [round(x, 4) for x in unit(1, 1, dim=2).tolist()]
        [0.7071, 0.7071]
    """
    v = np.zeros(dim, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def _angle(degrees: float) -> npt.NDArray[np.float32]:
    rad = np.deg2rad(degrees)
    return unit(float(np.cos(rad)), float(np.sin(rad)))


class VectorBackendConformance:
    """Behaviour every :class:`~omnicache_ai.backends.vector.VectorBackend` must show."""

    # ``make_backend`` is supplied by the subclass or a conftest (see the module docs): a
    # default here would shadow a conftest fixture of the same name.

    @pytest.fixture
    def store(self, make_backend: BackendFactory) -> Iterator[VectorBackend]:
        """A fresh store of dimension 8, closed after the test."""
        backend = make_backend(DIM)
        try:
            yield backend
        finally:
            backend.close()

    # ---- the contract ----------------------------------------------------------------
    def test_satisfies_protocol(self, store: VectorBackend) -> None:
        """The backend is a runtime-checkable VectorBackend with the requested dim."""
        assert isinstance(store, VectorBackend)
        assert store.dim == DIM

    def test_empty_store_finds_nothing(self, store: VectorBackend) -> None:
        """Searching an empty store returns no hits and counts zero."""
        assert store.search(unit(1), k=3) == []
        assert store.count() == 0

    def test_exact_vector_scores_one(self, store: VectorBackend) -> None:
        """A stored vector searched for itself comes back first with cosine 1."""
        store.add(["a", "b"], np.stack([unit(1, 0), unit(0, 1)]))
        hits = store.search(unit(1, 0), k=1)
        assert [h.id for h in hits] == ["a"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)

    def test_scores_are_cosine_and_sorted(self, store: VectorBackend) -> None:
        """Hits come best first with scores equal to the cosine of the angle between them."""
        angles = {"d0": 0, "d30": 30, "d60": 60, "d120": 120, "d180": 180}
        store.add(list(angles), np.stack([_angle(a) for a in angles.values()]))
        hits = store.search(_angle(0), k=5)
        assert [h.id for h in hits] == ["d0", "d30", "d60", "d120", "d180"]
        for hit in hits:
            expected = float(np.cos(np.deg2rad(angles[hit.id])))
            assert hit.score == pytest.approx(expected, abs=1e-4)

    def test_vectors_are_normalized_on_the_way_in(self, store: VectorBackend) -> None:
        """Scale does not matter: a long stored vector and a short query still score 1."""
        store.add(["long"], (unit(3, 4) * 250.0).reshape(1, -1))
        hit = store.search(unit(3, 4) * 0.01, k=1)[0]
        assert hit.score == pytest.approx(1.0, abs=1e-5)

    def test_k_larger_than_store(self, store: VectorBackend) -> None:
        """Asking for more hits than entries returns every entry, once."""
        store.add(["a", "b"], np.stack([unit(1), unit(1, 1)]))
        assert sorted(h.id for h in store.search(unit(1), k=10)) == ["a", "b"]

    def test_upsert_replaces_vector_and_metadata(self, store: VectorBackend) -> None:
        """Adding an existing id replaces its vector and metadata and keeps one entry."""
        store.add(["a"], unit(1, 0).reshape(1, -1), [{"v": 1, "old": "yes"}])
        store.add(["a"], unit(0, 1).reshape(1, -1), [{"v": 2}])
        assert store.count() == 1
        hit = store.search(unit(0, 1), k=1)[0]
        assert (hit.id, hit.metadata) == ("a", {"v": 2})
        assert hit.score == pytest.approx(1.0, abs=1e-5)
        assert store.search(unit(0, 1), k=1, filter={"v": 1}) == []

    def test_duplicate_ids_in_one_batch_keep_the_last(self, store: VectorBackend) -> None:
        """Within one add call a repeated id keeps its last vector and metadata."""
        store.add(["a", "a"], np.stack([unit(1, 0), unit(0, 1)]), [{"n": 1}, {"n": 2}])
        assert store.count() == 1
        hit = store.search(unit(0, 1), k=1)[0]
        assert hit.metadata == {"n": 2}
        assert hit.score == pytest.approx(1.0, abs=1e-5)

    def test_metadata_round_trips_with_types(self, store: VectorBackend) -> None:
        """str, int, float and bool metadata come back equal and with their types."""
        meta: dict[str, MetadataValue] = {
            "s": "x",
            "i": 7,
            "f": 0.5,
            "b": True,
            "expires_at": 4102444800.0,
        }
        store.add(["a"], unit(1).reshape(1, -1), [meta])
        got = store.search(unit(1), k=1)[0].metadata
        assert got == meta
        assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in meta.items()}

    def test_missing_metadata_is_an_empty_dict(self, store: VectorBackend) -> None:
        """An entry added without metadata reports an empty metadata dict."""
        store.add(["a"], unit(1).reshape(1, -1))
        assert store.search(unit(1), k=1)[0].metadata == {}

    # ---- filters ---------------------------------------------------------------------
    def test_filter_isolates_identical_vectors(self, store: VectorBackend) -> None:
        """Two partitions holding the same vector never see each other's entry."""
        v = np.stack([unit(1, 2, 3), unit(1, 2, 3)])
        store.add(["t1:q", "t2:q"], v, [{"tenant": "t1"}, {"tenant": "t2"}])
        for tenant in ("t1", "t2"):
            hits = store.search(unit(1, 2, 3), k=5, filter={"tenant": tenant})
            assert [h.id for h in hits] == [f"{tenant}:q"]

    def test_filter_is_applied_before_top_k(self, store: VectorBackend) -> None:
        """A small partition is found with k=1 even when another one crowds the query."""
        crowd = np.stack([unit(1, 0.01 * i) for i in range(60)])
        store.add([f"a{i}" for i in range(60)], crowd, [{"p": "a"}] * 60)
        store.add(["lonely"], unit(0, 1).reshape(1, -1), [{"p": "b"}])
        hits = store.search(unit(1, 0), k=1, filter={"p": "b"})
        assert [h.id for h in hits] == ["lonely"]
        assert hits[0].score == pytest.approx(0.0, abs=1e-4)

    def test_filter_requires_every_key(self, store: VectorBackend) -> None:
        """All filter keys must match: a partial match is not a match."""
        store.add(
            ["m1t1", "m1t2", "m2t1"],
            np.stack([unit(1), unit(1, 0.1), unit(1, 0.2)]),
            [{"m": "m1", "t": "t1"}, {"m": "m1", "t": "t2"}, {"m": "m2", "t": "t1"}],
        )
        hits = store.search(unit(1), k=5, filter={"m": "m1", "t": "t1"})
        assert [h.id for h in hits] == ["m1t1"]

    def test_filter_on_int_and_bool(self, store: VectorBackend) -> None:
        """Filters match int and bool metadata values exactly."""
        store.add(
            ["v1", "v2", "yes"],
            np.stack([unit(1), unit(1, 0.1), unit(1, 0.2)]),
            [{"ver": 1}, {"ver": 2}, {"flag": True}],
        )
        assert [h.id for h in store.search(unit(1), k=5, filter={"ver": 2})] == ["v2"]
        assert [h.id for h in store.search(unit(1), k=5, filter={"flag": True})] == ["yes"]
        assert store.search(unit(1), k=5, filter={"flag": False}) == []

    def test_filter_on_unknown_value_finds_nothing(self, store: VectorBackend) -> None:
        """A filter value no entry has yields no hits (never an unfiltered fallback)."""
        store.add(["a"], unit(1).reshape(1, -1), [{"tenant": "t1"}])
        assert store.search(unit(1), k=1, filter={"tenant": "nobody"}) == []
        assert store.search(unit(1), k=1, filter={"other": "t1"}) == []

    def test_now_skips_expired_entries(self, store: VectorBackend) -> None:
        """With now=t, entries whose expires_at <= t are skipped; others stay visible."""
        store.add(
            ["old", "new", "forever"],
            np.stack([unit(1), unit(1, 0.1), unit(1, 0.2)]),
            [{"expires_at": 100}, {"expires_at": 200.5}, {}],
        )
        assert [h.id for h in store.search(unit(1), k=3, now=50)] == ["old", "new", "forever"]
        assert [h.id for h in store.search(unit(1), k=3, now=100)] == ["new", "forever"]
        assert [h.id for h in store.search(unit(1), k=3, now=300)] == ["forever"]
        assert [h.id for h in store.search(unit(1), k=3)] == ["old", "new", "forever"]

    # ---- delete, count, clear --------------------------------------------------------
    def test_delete_removes_and_ignores_unknown_ids(self, store: VectorBackend) -> None:
        """Deleted ids stop matching; unknown ids are ignored; count follows."""
        store.add(["a", "b", "c"], np.stack([unit(1), unit(1, 1), unit(0, 1)]))
        store.delete(["a", "zzz"])
        assert store.count() == 2
        assert "a" not in [h.id for h in store.search(unit(1), k=3)]
        store.delete([])
        assert store.count() == 2

    def test_deleted_id_can_be_added_again(self, store: VectorBackend) -> None:
        """An id deleted and re-added is found with its new vector."""
        store.add(["a"], unit(1, 0).reshape(1, -1))
        store.delete(["a"])
        store.add(["a"], unit(0, 1).reshape(1, -1))
        hits = store.search(unit(0, 1), k=2)
        assert [h.id for h in hits] == ["a"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-5)

    def test_clear_empties_and_store_stays_usable(self, store: VectorBackend) -> None:
        """clear removes everything and the store accepts new entries afterwards."""
        store.add([f"id{i}" for i in range(25)], np.stack([unit(1, i) for i in range(25)]))
        store.clear()
        assert store.count() == 0
        assert store.search(unit(1), k=1) == []
        store.add(["z"], unit(1).reshape(1, -1))
        assert [h.id for h in store.search(unit(1), k=5)] == ["z"]

    # ---- bad input -------------------------------------------------------------------
    @pytest.mark.parametrize(
        "vectors",
        [np.zeros((1, DIM)), np.ones((1, DIM + 1)), np.full((1, DIM), np.nan), np.ones((2, DIM))],
        ids=["zero", "wrong-dim", "nan", "count-mismatch"],
    )
    def test_bad_vectors_rejected(
        self, store: VectorBackend, vectors: npt.NDArray[np.float64]
    ) -> None:
        """Zero, NaN, wrong-dimension or miscounted vectors raise ValueError and store nothing."""
        with pytest.raises(ValueError):  # noqa: PT011 - the message varies by cause
            store.add(["a"], vectors)
        assert store.count() == 0

    def test_bad_search_arguments_rejected(self, store: VectorBackend) -> None:
        """k < 1, a wrong-dimension query and a float filter value are refused."""
        store.add(["a"], unit(1).reshape(1, -1))
        with pytest.raises(ValueError, match="k must be"):
            store.search(unit(1), k=0)
        with pytest.raises(ValueError, match="dimension"):
            store.search(np.ones(DIM + 2), k=1)
        with pytest.raises(TypeError, match="filter value"):
            store.search(unit(1), k=1, filter={"x": 1.5})  # type: ignore[dict-item]

    def test_reserved_metadata_keys_rejected(self, store: VectorBackend) -> None:
        """Keys with the backends' bookkeeping prefix are refused."""
        with pytest.raises(ValueError, match="reserved"):
            store.add(["a"], unit(1).reshape(1, -1), [{"_oc_id": "x"}])

    def test_close_is_idempotent(self, make_backend: BackendFactory) -> None:
        """close may be called twice."""
        backend = make_backend(DIM)
        backend.close()
        backend.close()

    def test_large_batch_is_one_upsert(self, store: VectorBackend) -> None:
        """One add of thousands of rows (past any internal batch size) stores each exactly once."""
        n = 3000
        rng = np.random.default_rng(11)
        vectors = rng.standard_normal((n, DIM)).astype(np.float32)
        ids = [f"b{i}" for i in range(n)]
        metas: list[dict[str, MetadataValue] | None] = [{"half": i % 2} for i in range(n)]
        store.add(ids[:10], vectors[:10] * -1.0, metas[:10])  # replaced by the batch below
        # The last row repeats the first id: within one batch the last occurrence wins.
        store.add([*ids, "b0"], np.vstack([vectors, vectors[-1:]]), [*metas, {"half": 1}])
        assert store.count() == n
        for i in (0, 1, 9, 10, n // 2, n - 1):
            expect = n - 1 if i == 0 else i
            hits = store.search(vectors[expect], k=2, filter={"half": expect % 2})
            assert hits[0].score == pytest.approx(1.0, abs=1e-4)
            assert {h.id for h in hits if h.score > 0.9999} >= {f"b{i}"}
        assert store.search(vectors[0], k=1, filter={"half": 0})[0].id != "b0"

    # ---- concurrency -----------------------------------------------------------------
    def test_threads_adding_and_searching_concurrently(self, store: VectorBackend) -> None:
        """Writers and readers in parallel neither crash nor lose or corrupt entries."""
        writers, per_writer = 4, 40
        rng = np.random.default_rng(7)
        vectors = rng.standard_normal((writers, per_writer, DIM)).astype(np.float32)
        errors: list[BaseException] = []
        done = threading.Event()

        def write(w: int) -> None:
            try:
                for i in range(0, per_writer, 8):
                    ids = [f"w{w}-{j}" for j in range(i, i + 8)]
                    metas = [{"writer": w} for _ in ids]
                    store.add(ids, vectors[w, i : i + 8], metas)
            except Exception as err:  # noqa: BLE001 - reported by the main thread
                errors.append(err)

        def read() -> None:
            try:
                while not done.is_set():
                    for hit in store.search(vectors[0, 0], k=3, filter={"writer": 0}):
                        assert hit.id.startswith("w0-")
            except Exception as err:  # noqa: BLE001 - reported by the main thread
                errors.append(err)

        readers = [threading.Thread(target=read) for _ in range(2)]
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for t in readers + threads:
            t.start()
        for t in threads:
            t.join(60)
        done.set()
        for t in readers:
            t.join(60)
        assert not errors, errors
        assert store.count() == writers * per_writer
        for w in range(writers):
            for i in (0, per_writer - 1):
                hit = store.search(vectors[w, i], k=1, filter={"writer": w})[0]
                assert hit.id == f"w{w}-{i}"
                assert hit.score == pytest.approx(1.0, abs=1e-4)
