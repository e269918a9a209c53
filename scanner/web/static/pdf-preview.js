// The record page's PDF preview: pdf.js (pdfjs-dist from npm, served by this app) draws each page on a canvas.
import * as pdfjs from "/static/vendor/pdfjs/pdf.min.mjs";

pdfjs.GlobalWorkerOptions.workerSrc = "/static/vendor/pdfjs/pdf.worker.min.mjs";
const MAX_PAGES = 30; // a longer document is downloaded, not previewed whole

async function show(box) {
  try {
    const doc = await pdfjs.getDocument({ url: box.dataset.src, isEvalSupported: false }).promise;
    box.replaceChildren();
    const width = box.clientWidth - 16;
    for (let n = 1; n <= Math.min(doc.numPages, MAX_PAGES); n++) {
      const page = await doc.getPage(n);
      const base = page.getViewport({ scale: 1 });
      const ratio = window.devicePixelRatio || 1;
      const viewport = page.getViewport({ scale: (width / base.width) * ratio });
      const canvas = document.createElement("canvas");
      canvas.width = viewport.width;
      canvas.height = viewport.height;
      canvas.style.width = `${viewport.width / ratio}px`;
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `Trang ${n}/${doc.numPages}`);
      box.append(canvas);
      await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
    }
    if (doc.numPages > MAX_PAGES) {
      const more = document.createElement("p");
      more.textContent = `Còn ${doc.numPages - MAX_PAGES} trang nữa: tải tệp PDF để xem hết.`;
      box.append(more);
    }
    box.dataset.pages = String(doc.numPages);
  } catch (err) {
    box.textContent = "Không hiển thị được bản xem trước; hãy tải tệp PDF về để xem.";
    box.dataset.error = String(err);
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}

const box = document.getElementById("xem-truoc");
if (box) show(box);
