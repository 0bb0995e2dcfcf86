"""A dict that keeps its most recently used entries only."""

import collections


class BoundedCache(collections.OrderedDict):
    """A mapping that forgets its least recently used entry beyond `maxsize`.

    The generating models keep their compiled decoding functions and their
    samplers in these: a chat server that asks for a new temperature or
    guidance weight per request would otherwise keep a compiled function
    (about 19 MB) for each, without end. `functools.lru_cache` memoises a
    function's calls; these entries are made by the models' methods with
    settings that are not all hashable arguments, hence a mapping.

    Args:
        maxsize: the most entries kept.
        on_evict: optional `on_evict(key, value)`, called for each entry
            forgotten.

    Example:

    >>> cache = BoundedCache(2)
    >>> cache["a"], cache["b"] = 1, 2
    >>> _ = cache["a"]  # used: "b" is now the oldest
    >>> cache["c"] = 3
    >>> sorted(cache)
    ['a', 'c']
    """

    def __init__(self, maxsize, on_evict=None):
        super().__init__()
        self.maxsize = int(maxsize)
        self.on_evict = on_evict

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.maxsize:
            old_key, old_value = self.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(old_key, old_value)
