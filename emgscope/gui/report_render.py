"""The report drawn and written: its trace images, and the document as PDF, HTML or on a printer.

The content comes from :mod:`emgscope.analysis.findings.report` (Qt-free); this module draws each muscle's figures
with pyqtgraph, offscreen, in a paper style (dark traces on white, the division grid, negative up as on the scope):

* **rest**: a representative second of a rest step (an example of the most telling discharge found, or a quiet
  stretch), at the most sensitive µV/div it fits;
* **mups**: the minimal contraction's MUP templates side by side, each on its own scale (the MUP results file's
  edited analysis where one exists, otherwise the analysis made for the report);
* **max**: a second of the interference pattern at maximal effort;
* **plot**: the duration-amplitude plot with the reference's limits of the mean (inner box) and outlier limits
  (outer box, dashed), as the MUP panel draws it.

The document is Qt's rich text (:class:`~PyQt6.QtGui.QTextDocument`) with the images as its resources, printed to a
:class:`~PyQt6.QtGui.QPdfWriter` (text stays text: ``pdftotext`` reads it back) or to a printer; HTML embeds the
images as data URIs, so the file stands alone.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as exporters
from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, Qt, QUrl
from PyQt6.QtGui import QColor, QFont, QImage, QPagedPaintDevice, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PyQt6.QtPrintSupport import QPrinter
from PyQt6.QtWidgets import QApplication

from emgscope.analysis.findings.report import ReportContent, to_html
from emgscope.analysis.findings.sidecar import Findings
from emgscope.analysis.findings.suggest import FILTERS
from emgscope.analysis.muap.analyse import MuapInputError, analyse_segment
from emgscope.analysis.muap.model import SiteAnalysis, muscle_summary
from emgscope.core.settings import DIVISIONS, SENSITIVITY_PRESETS_UV
from emgscope.dsp.filters import FilterBank
from emgscope.replay.reader import Recording

IMAGE_SIZE = (660, 330)
"""Pixels of each figure (drawn at twice the size it is shown at, so it prints sharply)."""
PAPER = QColor(255, 255, 255)
INK = QColor(20, 20, 20)
GRID = QColor(200, 200, 200)
ACCENT = QColor(30, 90, 180)
OUTLIER = QColor(190, 40, 40)
WARM_UP_S = 0.3
"""Read before a trace so the filter has settled when it begins."""
TRACE_FILL = 0.45
"""A trace's largest excursion reaches at most this share of the grid's height either way."""
SHOWN_WIDTH = 360
"""Width the images are shown at on screen and in HTML (pixels) ..."""
IMAGE_SHARE = 0.48
"""... and on a page: two to a line."""
NO_LIGATURES = ("liga", "clig")
"""Ligatures off: "fi" is written as two letters, so the PDF's text reads back (and is found) as typed."""
CSS_DPI = 96.0
"""A rich-text image's width is in CSS pixels, 96 to the inch, whatever the device's resolution."""


def _sensitivity(x: np.ndarray) -> float:
    """The most sensitive preset µV/div at which ``x`` (its 99.9th percentile) stays inside the grid."""
    size = float(np.percentile(np.abs(x), 99.9)) if x.size else 0.0
    for preset in SENSITIVITY_PRESETS_UV:
        if size <= TRACE_FILL * DIVISIONS * preset:
            return preset
    return SENSITIVITY_PRESETS_UV[-1]


Figure = tuple[QImage, str]
"""An image and the line under it (its scales, what it shows)."""


def _plot() -> pg.PlotWidget:
    plot = pg.PlotWidget(background=PAPER)
    plot.resize(*IMAGE_SIZE)
    item = plot.getPlotItem()
    item.hideButtons()
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(INK))
        axis.setTextPen(pg.mkPen(INK))
    return plot


def _grab(plot: pg.PlotWidget) -> QImage:
    exporter = exporters.ImageExporter(plot.getPlotItem())
    exporter.parameters()["width"] = IMAGE_SIZE[0]
    image = exporter.export(toBytes=True)
    plot.deleteLater()
    return image


def trace_image(x_uv: np.ndarray, rate: float, start_s: float) -> Figure:
    """A stretch of filtered signal on the 10 × 10 division grid, negative up, with its scales."""
    sensitivity = _sensitivity(x_uv)
    seconds = x_uv.size / rate
    ms_per_div = 1000.0 * seconds / DIVISIONS
    plot = _plot()
    item = plot.getPlotItem()
    for k in range(DIVISIONS + 1):
        item.addItem(pg.InfiniteLine(pos=k, angle=90, pen=pg.mkPen(GRID)))
        item.addItem(pg.InfiniteLine(pos=k - DIVISIONS / 2, angle=0, pen=pg.mkPen(GRID)))
    t = np.arange(x_uv.size) / rate / seconds * DIVISIONS
    item.plot(t, -x_uv / sensitivity, pen=pg.mkPen(INK, width=1))
    item.hideAxis("left")
    item.hideAxis("bottom")
    item.setRange(xRange=(0, DIVISIONS), yRange=(-DIVISIONS / 2, DIVISIONS / 2), padding=0)
    caption = f"{start_s:.1f} s, {sensitivity:g} µV/div, {ms_per_div:g} ms/div, negative up"
    return _grab(plot), caption


def templates_image(site: SiteAnalysis) -> Figure:
    """The units' templates side by side (-10 to +20 ms each, negative up), each scaled to its own size."""
    units = [u for u in site.units if not u.rejected][:8]
    plot = _plot()
    item = plot.getPlotItem()
    item.hideAxis("left")
    item.getAxis("bottom").setLabel("units (30 ms each)")
    width = 30.0
    for k, unit in enumerate(units):
        before, after = round(10.0 * unit.template_rate_hz / 1000.0), round(20.0 * unit.template_rate_hz / 1000.0)
        a, b = max(0, unit.zero - before), min(unit.template_uv.size, unit.zero + after)
        y = np.asarray(unit.template_uv[a:b], np.float64)
        size = max(float(np.ptp(y)), 1e-9)
        x = k * width + (np.arange(a, b) - unit.zero) * 1000.0 / unit.template_rate_hz + 10.0
        item.plot(x, -y / size, pen=pg.mkPen(INK, width=1.2))
        label = pg.TextItem(f"{unit.id}: {unit.measures.amplitude_uv:.0f} µV", color=ACCENT, anchor=(0, 1))
        label.setPos(k * width + 1.0, -0.6)
        item.addItem(label)
    item.setRange(xRange=(0, max(1, len(units)) * width), yRange=(-0.7, 0.7), padding=0.02)
    caption = f"{len(units)} units, {site.start_s:.1f}-{site.end_s:.1f} s, 30 ms each, each on its own scale"
    return _grab(plot), caption


def plot_image(sites: Sequence[SiteAnalysis]) -> Figure:
    """The duration-amplitude plot of a muscle's accepted MUPs, with its reference's boxes."""
    accepted = [u for s in sites for u in s.units if s.accepted(u)]
    summary = muscle_summary(list(sites))
    plot = _plot()
    item = plot.getPlotItem()
    item.setLabel("bottom", "duration (ms)", color=INK)
    item.setLabel("left", "amplitude (µV)", color=INK)
    item.showGrid(x=True, y=True, alpha=0.3)
    if accepted:
        item.addItem(
            pg.ScatterPlotItem(
                [u.measures.duration_ms for u in accepted],
                [u.measures.amplitude_uv for u in accepted],
                size=9,
                brush=pg.mkBrush(INK),
                pen=pg.mkPen(None),
            )
        )
    durations = [u.measures.duration_ms for u in accepted] or [20.0]
    amplitudes = [u.measures.amplitude_uv for u in accepted] or [1000.0]
    reference = summary.reference
    if reference is not None:
        a, d = reference.amplitude_uv, reference.duration_ms
        item.plot(*_box(d.mean_low, d.mean_high, a.mean_low, a.mean_high), pen=pg.mkPen(ACCENT, width=2))
        durations.append(d.mean_high)
        amplitudes.append(a.mean_high)
        if reference.has_outlier_limits:
            box = _box(d.outlier_low or 0.0, d.outlier_high or 0.0, a.outlier_low or 0.0, a.outlier_high or 0.0)
            item.plot(*box, pen=pg.mkPen(OUTLIER, width=2, style=Qt.PenStyle.DashLine))
            durations.append(d.outlier_high or 0.0)
            amplitudes.append(a.outlier_high or 0.0)
    item.setRange(xRange=(0, max(durations) * 1.15), yRange=(0, max(amplitudes) * 1.15), padding=0.02)
    if reference is None:
        boxes = f"no reference values for {summary.name or 'this muscle'}"
    elif reference.has_outlier_limits:
        boxes = f"{reference.name}: limits of the mean (solid), outlier limits (dashed)"
    else:
        boxes = f"{reference.name}: limits of the mean"
    return _grab(plot), f"{len(accepted)} near-field MUPs; {boxes}"


def _box(x0: float, x1: float, y0: float, y1: float) -> tuple[list[float], list[float]]:
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def _filtered(recording: Recording, channel: int, start_s: float, end_s: float) -> tuple[np.ndarray, float]:
    info = recording.signals[channel]
    rate = info.sample_rate
    first = max(0, round((start_s - WARM_UP_S) * rate))
    a, b = round(start_s * rate), round(end_s * rate)
    raw = recording.read(channel, first, b)
    filtered = FilterBank(FILTERS, rate, 1).process(raw[np.newaxis])[0].astype(np.float64)
    return filtered[a - first :], rate


def _min_sites(
    recording: Recording, channel: int, window: tuple[float, float], muscle: str, saved: Sequence[SiteAnalysis]
) -> list[SiteAnalysis]:
    """The MUP analyses of a minimal contraction: the results file's where it holds one, else a new one."""
    rate = recording.signals[channel].sample_rate
    a, b = round(window[0] * rate), round(window[1] * rate)
    mine = [s for s in saved if s.channel == channel and a - rate <= s.start_index < b]
    if mine:
        return mine
    try:
        return [analyse_segment(recording.read(channel, a, b), rate, start_index=a, muscle=muscle or None)]
    except MuapInputError:
        return []


def figures(
    recording: Recording, findings: Findings, saved_mups: Sequence[SiteAnalysis] = ()
) -> dict[tuple[str, str], Figure]:
    """Every figure of the report, keyed ``(row label, figure)`` (see the module's docstring)."""
    images: dict[tuple[str, str], Figure] = {}
    channel = findings.channel
    for row in findings.rows:
        for name in ("rest", "max"):
            if name in row.anchors:
                x, rate = _filtered(recording, channel, *row.anchors[name])
                if x.size:
                    images[(row.label, name)] = trace_image(x, rate, row.anchors[name][0])
        if "min" in row.anchors:
            sites = _min_sites(recording, channel, row.anchors["min"], row.muscle, saved_mups)
            if sites and any(not u.rejected for s in sites for u in s.units):
                images[(row.label, "mups")] = templates_image(sites[0])
            if any(s.accepted(u) for s in sites for u in s.units):
                images[(row.label, "plot")] = plot_image(sites)
    return images


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def document(
    content: ReportContent, images: dict[tuple[str, str], Figure], device: QPagedPaintDevice | None = None
) -> QTextDocument:
    """The report as a rich-text document laid out for ``device`` (its resolution and page), the images as its
    resources, two to a line."""
    doc = QTextDocument()
    font = QFont(doc.defaultFont())
    for tag in NO_LIGATURES:
        font.setFeature(QFont.Tag(tag), 0)
    doc.setDefaultFont(font)
    width = SHOWN_WIDTH
    if device is not None:
        doc.documentLayout().setPaintDevice(device)
        rect = device.pageLayout().paintRectPixels(device.resolution())
        doc.setPageSize(QSizeF(rect.width(), rect.height()))
        width = int(rect.width() * IMAGE_SHARE * CSS_DPI / device.resolution())
    names = {key: (f"figure{k}.png", images[key][1]) for k, key in enumerate(images)}
    for key, (name, _) in names.items():
        doc.addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(name), images[key][0])
    doc.setHtml(to_html(content, names, datetime.now(), width))
    return doc


def write_pdf(content: ReportContent, images: dict[tuple[str, str], Figure], path: Path) -> None:
    """Write the report as an A4 PDF with extractable text. Raises ``OSError`` when the file cannot be made."""
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    writer.setTitle(content.title)
    writer.setCreator("emgscope")
    document(content, images, writer).print(writer)
    del writer
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"the PDF could not be written to {path}")


def write_html(content: ReportContent, images: dict[tuple[str, str], Figure], path: Path) -> None:
    """Write the report as one HTML file (images embedded). Raises ``OSError``."""
    sources = {
        key: ("data:image/png;base64," + base64.b64encode(_png(image)).decode("ascii"), caption)
        for key, (image, caption) in images.items()
    }
    path.write_text(to_html(content, sources, datetime.now()), encoding="utf-8")


def print_to(printer: QPrinter, content: ReportContent, images: dict[tuple[str, str], Figure]) -> None:
    """Print the report on ``printer`` (chosen in the print dialog)."""
    document(content, images, printer).print(printer)


_app: list[QApplication] = []
"""The command line's application, kept alive for as long as the module is."""


def ensure_app() -> None:
    """A Qt application for drawing, offscreen where there is no display (the command line)."""
    if QApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app.append(QApplication(["emgscope"]))
