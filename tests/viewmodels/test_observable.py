"""The Observable helper: change signals, no signal on equal values, per-instance mutable defaults."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, Signal

from lora_studio.viewmodels.observable import Observable


class _Vm(QObject):
    busy_changed = Signal(bool)
    items_changed = Signal(list)
    busy = Observable(False)
    items = Observable([])


def test_setting_a_new_value_emits_once(qtbot) -> None:  # type: ignore[no-untyped-def]
    vm = _Vm()
    seen: list[bool] = []
    vm.busy_changed.connect(seen.append)
    vm.busy = True
    vm.busy = True
    vm.busy = False
    assert seen == [True, False]
    assert vm.busy is False


def test_mutable_default_is_per_instance(qtbot) -> None:  # type: ignore[no-untyped-def]
    first, second = _Vm(), _Vm()
    first.items.append("x")
    assert second.items == []


def test_missing_signal_is_refused_at_class_creation() -> None:
    # Python 3.11 wraps errors raised in __set_name__ in a RuntimeError; the cause is ours.
    with pytest.raises((TypeError, RuntimeError)) as info:

        class _Broken(QObject):
            error = Observable("")

    cause = info.value.__cause__ or info.value
    assert isinstance(cause, TypeError)
    assert "error_changed" in str(cause)


def test_class_access_returns_descriptor() -> None:
    assert isinstance(_Vm.busy, Observable)
