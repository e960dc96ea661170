// Decodes camera frames off the main thread, so the answer panel and the keyboard field never stutter.
// Receives {buffer, width, height} (the frame's RGBA bytes, transferred) and answers with the text or null.
/* global jsQR */
"use strict";
importScripts("../vendor/jsqr/jsQR.js");

self.onmessage = function (event) {
  var frame = event.data;
  var result = null;
  try {
    var found = jsQR(new Uint8ClampedArray(frame.buffer), frame.width, frame.height, {
      inversionAttempts: "attemptBoth"
    });
    result = found && found.data ? found.data : null;
  } catch (err) {
    result = null;
  }
  self.postMessage({ text: result });
};
