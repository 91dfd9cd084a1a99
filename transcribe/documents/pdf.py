"""PDF copies of report documents, made by LibreOffice at the edge (``soffice --headless``).

A hung or failing LibreOffice is a ``RenderFailed`` stage error: the filing is tried again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from transcribe.documents.report import RenderFailed

#: LibreOffice's PDF export asked for PDF/A-2b (its filter option ``SelectPdfVersion`` 2)
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def convert_to_pdf(docx: bytes, name: str, *, timeout_s: float = 180.0, pdfa: bool = False) -> bytes:
    """A PDF of a DOCX, made by LibreOffice (``soffice --headless --convert-to pdf``) within ``timeout_s``.

    ``pdfa``: a PDF/A-2b (fonts embedded, XMP identification), the archival copy the exchange formats carry.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RenderFailed(
            "LibreOffice (soffice) is not installed: it is needed to make PDF copies "
            "(apt-get install libreoffice-writer), or set filing.pdf = false"
        )
    with tempfile.TemporaryDirectory(prefix="transcribe-pdf-") as folder:
        source = Path(folder) / f"{name}.docx"
        source.write_bytes(docx)
        profile = Path(folder) / "profile"
        command = [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            PDFA_FILTER if pdfa else "pdf",
            "--outdir",
            folder,
            str(source),
        ]
        try:  # in a session of its own, so that a LibreOffice that hangs is stopped with all its processes
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise RenderFailed(f"LibreOffice ({soffice}) could not be started ({e.strerror})") from e
        try:
            _, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired as e:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RenderFailed(
                f"LibreOffice did not convert {name}.docx to PDF within {timeout_s:g} s (it hung, or the machine "
                "is overloaded; filing.pdf_timeout_s sets the limit); it is tried again"
            ) from e
        pdf = Path(folder) / f"{name}.pdf"
        if process.returncode != 0 or not pdf.is_file():
            raise RenderFailed(f"LibreOffice could not convert {name}.docx to PDF ({stderr[-200:]!r})")
        return pdf.read_bytes()
