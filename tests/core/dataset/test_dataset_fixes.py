"""Fixes: each one writes atomically and keeps destroyed originals in the trash (undo)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from lora_studio.core.dataset import (
    DoctorOptions,
    Fix,
    FixOptions,
    Kind,
    Trash,
    apply_fixes,
    run_doctor,
    scan_dataset,
)


def fixes_for(dataset: Path, kind: str, **options):  # type: ignore[no-untyped-def]
    report = run_doctor(dataset, DoctorOptions(resolution=512, **options))
    return [f for f in report.findings if f.kind == kind]


def test_rotate_per_exif_keeps_original_in_trash(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    image = pictures.jpeg(dataset / "turned.jpg", size=(64, 48), orientation=6)
    original = image.read_bytes()
    result = apply_fixes(dataset, fixes_for(dataset, Kind.EXIF_ROTATION))
    assert [r.ok for r in result.results] == [True]
    with Image.open(image) as fixed:
        assert fixed.size == (48, 64) and fixed.getexif().get(0x0112) is None
    entry = scan_dataset(dataset).entries[0]
    assert (entry.width, entry.height, entry.orientation) == (48, 64, 1)
    assert result.trash_batch is not None
    Trash(dataset).restore(result.trash_batch, overwrite=True)  # undo
    assert image.read_bytes() == original


def test_convert_cmyk_16bit_palette_and_flatten_alpha(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.jpeg(dataset / "print.jpg", mode="CMYK")
    pictures.save(Image.new("I;16", (32, 32), 65535), dataset / "deep.png")
    palette = Image.new("P", (32, 32), 0)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (0, 0, 16, 32))
    pictures.save(palette, dataset / "pal.png", transparency=0)
    pictures.save(Image.new("RGBA", (32, 32), (0, 0, 0, 0)), dataset / "clear.webp", lossless=True)
    report = run_doctor(dataset, DoctorOptions(resolution=512))
    chosen = [f for f in report.findings if f.fix in (Fix.CONVERT_RGB, Fix.FLATTEN_ALPHA)]
    assert {f.path.name for f in chosen} == {"print.jpg", "deep.png", "pal.png", "clear.webp"}
    result = apply_fixes(dataset, chosen, FixOptions(background=(0, 255, 0)))
    assert all(r.ok for r in result.results), result.results
    modes = {e.name: e.mode for e in scan_dataset(dataset).entries}
    assert modes == {"print.jpg": "RGB", "deep.png": "RGB", "pal.png": "RGB", "clear.webp": "RGB"}
    with Image.open(dataset / "deep.png") as deep:
        assert deep.getpixel((1, 1)) == (255, 255, 255)
    with Image.open(dataset / "pal.png") as pal, Image.open(dataset / "clear.webp") as clear:
        assert pal.getpixel((1, 1)) == (0, 0, 255) and pal.getpixel((30, 1)) == (0, 255, 0)
        red, green, blue = clear.getpixel((5, 5))  # type: ignore[misc]  # lossy WebP: nearly
        assert red < 4 and green > 250 and blue < 4
    assert len(Trash(dataset).get(result.trash_batch).items) == 4  # type: ignore[arg-type]
    assert not [
        f
        for f in run_doctor(dataset, DoctorOptions(resolution=512)).findings
        if f.fix in (Fix.CONVERT_RGB, Fix.FLATTEN_ALPHA)
    ]


def test_gif_becomes_png_with_its_caption(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    gif = pictures.save(Image.new("P", (16, 16), 3), dataset / "anim.gif")
    pictures.caption(gif, "ohwx gif")
    finding = [f for f in fixes_for(dataset, Kind.PALETTE)]
    result = apply_fixes(dataset, finding)
    assert result.results[0].path == dataset / "anim.png" and not gif.exists()
    assert (dataset / "anim.txt").read_text() == "ohwx gif"


def test_caption_fixes(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    pictures.caption(pictures.jpeg(dataset / "a.jpg"), "a portrait\nsecond line\n")
    pictures.jpeg(dataset / "b.jpg", seed=2)
    pictures.caption(
        pictures.jpeg(dataset / "c.jpg", seed=3),
        "café".encode("cp1252").decode("latin-1"),
        encoding="latin-1",
    )
    report = run_doctor(dataset, DoctorOptions(resolution=512, trigger="ohwx", check_pixels=False))
    result = apply_fixes(dataset, list(report.findings), FixOptions(trigger="ohwx"))
    assert all(r.ok for r in result.results), result.results
    assert (dataset / "a.txt").read_text() == "ohwx, a portrait\nsecond line\n"
    assert (dataset / "b.txt").read_text() == "ohwx"
    assert (dataset / "c.txt").read_text(encoding="utf-8") == "ohwx, café"
    again = run_doctor(dataset, DoctorOptions(resolution=512, trigger="ohwx", check_pixels=False))
    assert {f.kind for f in again.findings} <= {Kind.MULTILINE_CAPTION, Kind.TOO_SMALL}


def test_move_to_trash_fix_and_unreadable_picture_is_reported(dataset: Path, pictures) -> None:  # type: ignore[no-untyped-def]
    (dataset / "broken.jpg").write_bytes(b"not a jpeg at all")
    pictures.caption(dataset / "broken.jpg", "caption of a broken file")
    (dataset / "orphan.txt").write_text("alone")
    report = run_doctor(dataset, DoctorOptions(resolution=512))
    chosen = [f for f in report.findings if f.fix == Fix.MOVE_TO_TRASH]
    result = apply_fixes(dataset, chosen)
    assert all(r.ok for r in result.results)
    assert sorted(p.name for p in dataset.iterdir()) == [".lorastudio"]
    restored = Trash(dataset).restore(result.trash_batch)  # type: ignore[arg-type]
    assert sorted(p.name for p in restored.restored) == ["broken.jpg", "broken.txt", "orphan.txt"]
