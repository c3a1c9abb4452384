/**
 * Reads a QR code the way a phone would: from pixels. The image is a screenshot of the element as Chromium drew it;
 * a blank page turns the PNG back into RGBA pixels (canvas), and jsQR finds and decodes the symbol in them.
 */
// jsqr is CommonJS: its function is the module itself and, under the same name, its `default`.
import jsQR from 'jsqr';
import type { Browser, Locator } from 'playwright-core';

export async function decodeQrElement(browser: Browser, element: Locator): Promise<string | null> {
  const png = await element.screenshot();
  const page = await browser.newPage();
  try {
    const image = await page.evaluate(async (base64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${base64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d canvas');
      context.drawImage(img, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      return { width: pixels.width, height: pixels.height, data: Array.from(pixels.data) };
    }, png.toString('base64'));
    return jsQR.default(Uint8ClampedArray.from(image.data), image.width, image.height)?.data ?? null;
  } finally {
    await page.close();
  }
}
