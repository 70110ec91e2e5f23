"""View-model base: observable properties that emit `<name>_changed` when their value changes.

    class DatasetViewModel(QObject):
        busy_changed = Signal(bool)
        busy = Observable(False)

Setting `vm.busy = True` stores the value and emits `busy_changed(True)`; setting the same value
again emits nothing. A class that declares an Observable without its signal fails at class creation,
so a typo cannot silently drop notifications.
"""

from __future__ import annotations

import copy
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class Observable(Generic[T]):
    """Descriptor for a view-model property with a change signal named `<name>_changed`."""

    def __init__(self, default: T) -> None:
        self._default = default
        self.name = ""
        self._attr = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self._attr = f"_observable_{name}"
        signal_name = f"{name}_changed"
        if not any(signal_name in vars(klass) for klass in owner.__mro__):
            raise TypeError(
                f"{owner.__name__}.{name} is Observable but {signal_name} is not declared"
            )

    @overload
    def __get__(self, obj: None, owner: type) -> Observable[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self._attr]
        except KeyError:
            # Mutable defaults (lists, dicts) are copied per instance.
            value = copy.copy(self._default)
            obj.__dict__[self._attr] = value
            return value

    def __set__(self, obj: object, value: T) -> None:
        old = self.__get__(obj, type(obj))
        obj.__dict__[self._attr] = value
        if old != value or type(old) is not type(value):
            getattr(obj, f"{self.name}_changed").emit(value)
