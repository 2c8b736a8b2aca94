"""How the build cache stores records: texts as UTF-8, bodies apart and read when needed.

Two things shape it. Pickling a str that is not ASCII keeps a UTF-8 copy of it inside the
str for as long as the str lives (CPython caches it there): for an archive's records, whose
texts are Arabic, that doubled the memory of every record saved (85 MiB at 10,000 items).
And a build after an edit needs the bodies of the few pages it renders again, not the 70 MB
of HTML and plain text of a 10,000-item archive. So texts are pickled as UTF-8 bytes, and
each shard's bodies go to a file of their own, which an article read back from the cache
(`SavedArticle`) opens the first time its body or text is read.

A build that parses a large archive keeps the bodies out of memory too: as the parse
workers send articles back, their bodies are parked in a temporary file (`BodySpool`),
which the processes that render pages read one body at a time. A body is decoded each time
it is read and never kept: a page reads its article's body once, and the search index
reads every item's text once.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from .errors import NewsgenError
from .model import Article
from .terms import TermCounts

_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_BODY_FIELDS = ("body_html", "text")
_HTML, _TEXT = map(_ARTICLE_FIELDS.index, _BODY_FIELDS)


@contextmanager
def replacing(path: Path):
    """A file to write that replaces `path` in one rename once it is complete; removed instead
    if writing it fails, so a reader never finds half a file."""
    temporary = path.with_suffix(f".tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_pickle(path: Path, value, *, without_bodies: bool = False) -> None:
    """Pickle `value` to `path` atomically; articles in it lose their bodies with `without_bodies`
    (they are saved with `write_bodies`)."""
    with replacing(path) as handle:
        _RecordPickler(handle, protocol=pickle.HIGHEST_PROTOCOL, without_bodies=without_bodies).dump(value)


def write_bodies(path: Path, token: str, articles: dict[str, Article]) -> None:
    """The bodies of `articles` (by record name), under `token`, which the records' file names.

    The file holds the token, then where each body is and the digest of its text (pickled),
    then the bodies as bytes, one after another: a build reads the token to check the file, and
    then only the bodies it needs; the search index plans its shards from the digests alone.
    """
    places: dict[str, tuple[int, int, int, bytes]] = {}
    parts: list[bytes] = []
    end = 0
    for name, article in articles.items():
        html, text = body_bytes(article)
        places[name] = (end, len(html), len(text), text_digest(article, text))
        parts += (html, text)
        end += len(html) + len(text)
    with replacing(path) as handle:
        pickle.dump(token, handle, protocol=pickle.HIGHEST_PROTOCOL)  # read alone to check the file
        pickle.dump(places, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.writelines(parts)


def body_bytes(article: Article) -> tuple[bytes, bytes]:
    """The article's body HTML and plain text as UTF-8, read from its file if not read yet."""
    values = article.__dict__
    html, text = values["body_html"], values["text"]
    if type(html) is _Unread:
        return html.bodies.get(html.name)
    return (html if type(html) is bytes else html.encode("utf-8"),
            text if type(text) is bytes else text.encode("utf-8"))


def text_digest(article: Article, text: bytes | None = None) -> bytes:
    """A digest of the article's plain text (`text`, when the caller has its UTF-8 at hand): for
    an article read from the cache, the one saved with its body, without reading the body."""
    value = article.__dict__["text"]
    if type(value) is _Unread and type(value.bodies) is BodyFile:
        return value.bodies.text_digest(value.name)
    return hashlib.blake2b(body_bytes(article)[1] if text is None else text, digest_size=16).digest()


def encoded_bodies(article: Article) -> "SavedArticle":
    """The article with its body and text as UTF-8, decoded when read (to send it to another
    process that may never read them)."""
    encoded = SavedArticle.__new__(SavedArticle)
    encoded.__dict__.update(article.__dict__)
    values = encoded.__dict__
    for name in _BODY_FIELDS:
        if type(values[name]) is str:
            values[name] = values[name].encode("utf-8")
    return encoded


class BodyFile:
    """The bodies of one shard's records, each read from their file when it is needed.

    The file stays open once the first body is read, and bodies are read with `pread`: a
    body costs one call, processes forked since share the handle safely, and a newer file
    saved under the same name (always a new file, see `write_bodies`) does not change what
    this one reads.
    """

    def __init__(self, path: Path, token: str):
        self.path = path
        self.token = token
        self._file = None  # open once the first body is read
        self._places: dict[str, tuple[int, int, int, bytes]] = {}  # start, sizes, digest of the text
        self._start = 0  # where the bodies begin in the file
        self._bodies: dict[str, tuple[bytes, bytes]] | None = None  # all of them, once `read`

    @classmethod
    def check(cls, path: Path, token: str) -> "BodyFile | None":
        """The file's bodies if it holds those of `token`; None if it does not or cannot be read."""
        try:
            with open(path, "rb") as handle:
                return cls(path, token) if pickle.load(handle) == token else None
        except Exception:
            return None

    def attach(self, articles: dict[str, Article]) -> None:
        """Make the saved articles (by record name) read their bodies from here."""
        for name, article in articles.items():
            unread = _Unread(self, name)
            article.__dict__.update(body_html=unread, text=unread)

    def get(self, name: str) -> tuple[bytes, bytes]:
        """The body HTML and plain text of the record `name`."""
        if self._bodies is not None:
            return self._bodies[name]
        try:
            start, html_size, text_size, _ = self._open()[name]
            return _read_body(self._file, self._start + start, html_size, text_size)
        except Exception:
            # serve saves the cache in another thread, which `read`s every body into memory before
            # it replaces the file, then closes it: a read that overlapped finds them there.
            if self._bodies is not None:
                return self._bodies[name]
            raise self._broken() from None

    def text_digest(self, name: str) -> bytes:
        """The digest of the plain text of the record `name`, as `write_bodies` saved it."""
        try:
            return (self._places if self._bodies is not None else self._open())[name][3]
        except Exception:
            if self._bodies is not None:  # read meanwhile by a save in another thread, as in `get`
                return self._places[name][3]
            raise self._broken() from None

    def open(self) -> None:
        """Open the file now, as processes forked later will read it (see `BuildCache.open_changed_bodies`)."""
        if self._bodies is None:
            try:
                self._open()
            except Exception:
                raise self._broken() from None

    def read(self) -> None:
        """Read every body of the file into memory (before the file is replaced)."""
        if self._bodies is None:
            try:
                places = self._open()
                data = os.pread(self._file.fileno(), sum(h + t for _, h, t, _ in places.values()), self._start)
            except Exception:
                raise self._broken() from None
            self._bodies = {name: _split(data, *place[:3]) for name, place in places.items()}
            self._file.close()  # not needed any more: a long serve session would pile them up

    def _open(self) -> dict[str, tuple[int, int, int, bytes]]:
        """Where each body is, from the file, opened and checked once."""
        if self._file is None:
            handle = open(self.path, "rb")
            try:
                if pickle.load(handle) != self.token:
                    raise ValueError("another file")
                self._places = pickle.load(handle)
                self._start = handle.tell()
            except BaseException:
                handle.close()
                raise
            self._file = handle
        return self._places

    def _broken(self) -> NewsgenError:
        return NewsgenError("the build cache changed or broke while this build read it; run the build "
                            "again (or delete the folder if it happens again)", str(self.path.parent))


class BodySpool:
    """Bodies parked in an unnamed temporary file, read back one at a time by this process or
    any process forked from it (the file is gone once nothing refers to the spool).

    A cold build of 10,000 items holds some 60 MB of bodies otherwise, in the process whose
    peak memory is the build's. Where the temporary folder cannot take them (full, or not
    writable), bodies stay in memory, as they would without the spool.
    """

    def __init__(self) -> None:
        self._places: list[tuple[int, int, int]] = []  # start, size of the HTML, size of the text
        self._end = 0
        try:
            self._file = tempfile.TemporaryFile(prefix="newsgen-bodies-", buffering=0)
        except OSError:
            self._file = None
        self._writable = self._file is not None

    def park(self, article: Article) -> None:
        """Move the article's body and text here (the article reads them back when asked)."""
        if not self._writable:
            return
        html, text = body_bytes(article)
        data = memoryview(html + text)
        try:
            while data:  # written without a buffer, which a forked process would inherit unwritten
                data = data[self._file.write(data):]
        except OSError:
            self._writable = False  # what is parked stays readable; later bodies stay in memory
            return
        self._places.append((self._end, len(html), len(text)))
        self._end += len(html) + len(text)
        unread = _Unread(self, len(self._places) - 1)
        article.__dict__.update(body_html=unread, text=unread)

    def get(self, index: int) -> tuple[bytes, bytes]:
        return _read_body(self._file, *self._places[index])


def _read_body(file, start: int, html_size: int, text_size: int) -> tuple[bytes, bytes]:
    """The body HTML and text stored one after the other from `start` in `file`, in one `pread`."""
    data = os.pread(file.fileno(), html_size + text_size, start)
    if len(data) != html_size + text_size:
        raise ValueError(f"{html_size + text_size} bytes expected at {start}, {len(data)} found")
    return _split(data, 0, html_size, text_size)


def _split(data: bytes, start: int, html_size: int, text_size: int) -> tuple[bytes, bytes]:
    """The body HTML and text stored one after the other from `start` in `data` (as
    `write_bodies` and `BodySpool.park` lay them out)."""
    middle = start + html_size
    return data[start:middle], data[middle:middle + text_size]


class _Unread:
    """Where a saved article's body and text are (a `BodyFile` or a `BodySpool`), until they are read."""

    __slots__ = ("bodies", "name")

    def __init__(self, bodies: BodyFile | BodySpool, name: str | int):
        self.bodies = bodies
        self.name = name


class _RecordPickler(pickle.Pickler):
    def __init__(self, *args, without_bodies: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.without_bodies = without_bodies

    def reducer_override(self, obj):
        if isinstance(obj, Article):
            values = list(map(obj.__dict__.__getitem__, _ARTICLE_FIELDS))
            values[_HTML], values[_TEXT] = (None, None) if self.without_bodies else body_bytes(obj)
            return _article, _encoded(values)
        if type(obj) is TermCounts:
            return _term_counts, (obj.words.encode("utf-8"), obj.counts, obj.headline, obj.digest)
        return NotImplemented


def _encoded(values: list) -> tuple:
    """(positions of the texts that are not ASCII, the values with those texts as UTF-8)."""
    texts = tuple(i for i, value in enumerate(values) if type(value) is str and not value.isascii())
    return texts, tuple(value.encode("utf-8") if i in texts else value for i, value in enumerate(values))


def _article(texts: tuple[int, ...], values: tuple) -> Article:
    values = list(values)
    for i in texts:
        values[i] = values[i].decode("utf-8")
    article = SavedArticle.__new__(SavedArticle)
    article.__dict__.update(zip(_ARTICLE_FIELDS, values))  # the fields as saved, not validated again
    return article


def _term_counts(words: bytes, counts: bytes, headline: str | None, digest: str) -> TermCounts:
    return TermCounts(words.decode("utf-8"), counts, headline, digest)


def _decoded_when_read(name: str) -> property:
    position = _BODY_FIELDS.index(name)

    def read(self) -> str:
        value = self.__dict__[name]
        if type(value) is _Unread:
            value = value.bodies.get(value.name)[position]
        return value.decode("utf-8") if type(value) is bytes else value

    def write(self, value: str) -> None:  # the dataclass's __init__ (and `replace`) set it
        self.__dict__[name] = value

    return property(read, write)


class SavedArticle(Article):
    """An article read from the cache, or sent by a parse worker: its body and plain text are
    read (and decoded) each time they are asked for. It equals the `Article` with the same fields."""

    body_html = _decoded_when_read("body_html")
    text = _decoded_when_read("text")

    def __eq__(self, other):
        if not isinstance(other, Article):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _ARTICLE_FIELDS)

    __hash__ = Article.__hash__
