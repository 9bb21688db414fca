/**
 * JPEG to RGB with mozjpeg (`@jsquash/jpeg`, WebAssembly): the same output as
 * libjpeg-turbo, which PIL uses (accurate integer IDCT, fancy upsampling).
 *
 * @example Usage
 * ```ts
 * import { decodeJpeg } from "./decode_jpeg.ts";
 * import { ImageDecodeError } from "../errors/mod.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(decodeJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), ImageDecodeError);
 * ```
 *
 * @module
 */

import mozjpegDecoder from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import type { MozJPEGModule } from "@jsquash/jpeg/codec/dec/mozjpeg_dec.js";
import type { DecodedImage } from "./decoded_image.ts";
import { ImageDecodeError } from "../errors/mod.ts";

let jpegWasm: Promise<WebAssembly.Module> | undefined;
let jpegCodec: Promise<MozJPEGModule> | undefined;
/** What libjpeg printed to stderr during the current `decode` call. */
const jpegMessages: string[] = [];

/**
 * Compiles the decoder's .wasm once and instantiates it on demand.
 *
 * The Emscripten glue would find the .wasm by itself, but only by sniffing
 * the runtime (it takes Deno for Node because `process` exists); reading the
 * file through `import.meta.resolve` works the same in the main thread and in
 * workers. Failed loads are forgotten so the next call retries.
 */
function loadJpegCodec(): Promise<MozJPEGModule> {
  jpegWasm ??= (async () => {
    const url = import.meta.resolve("@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm");
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url} gave HTTP ${response.status}`);
    return await WebAssembly.compile(await response.arrayBuffer());
  })().catch((error) => {
    jpegWasm = undefined;
    throw new Error(`Cannot load the JPEG decoder: ${error.message}`, { cause: error });
  });
  jpegCodec ??= jpegWasm.then((wasm) => {
    const options = {
      noInitialRun: true,
      instantiateWasm(imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance) => void) {
        const instance = new WebAssembly.Instance(wasm, imports);
        receive(instance);
        return instance.exports;
      },
      // libjpeg reports warnings and fatal errors on stderr; keep them for
      // error messages instead of printing them.
      printErr: (message: string) => jpegMessages.push(message),
      print: (message: string) => jpegMessages.push(message),
    };
    return mozjpegDecoder(options as Parameters<typeof mozjpegDecoder>[0]);
  }).catch((error) => {
    jpegCodec = undefined;
    throw error;
  });
  return jpegCodec;
}

/**
 * Decodes a JPEG (baseline, extended or progressive; gray or YCbCr) into RGB
 * pixels in stored orientation. A truncated file ("Premature end of JPEG
 * file") is an error, as in PIL; libjpeg's other warnings are not. CMYK
 * JPEGs are not supported by the decoder build.
 *
 * @param bytes The JPEG file, whose header `checkImage` accepted.
 * @returns Stored width, height and RGB pixels.
 * @throws {ImageDecodeError} When the data is truncated or corrupt.
 * @throws {Error} When the decoder itself cannot be loaded.
 *
 * @example Usage
 * ```ts
 * import { decodeJpeg } from "./decode_jpeg.ts";
 * import assert from "node:assert/strict";
 *
 * const jpeg = await Deno.readFile("../shared/data/ap-10k/data/000000000004.jpg");
 * const image = await decodeJpeg(jpeg);
 * assert.deepEqual([image.width, image.height], [1024, 683]);
 * ```
 */
export async function decodeJpeg(bytes: Uint8Array): Promise<DecodedImage> {
  const codec = await loadJpegCodec();
  // `decode` runs synchronously, so no other call can interleave its messages.
  jpegMessages.length = 0;
  let image: ImageData | null;
  try {
    // Embind copies any Uint8Array into the wasm heap, shared buffers too.
    image = codec.decode(bytes as Uint8Array<ArrayBuffer>, false);
  } catch (error) {
    // libjpeg's fatal errors end in exit(), which may leak what it allocated
    // or leave the runtime aborted: start the next decode on a fresh instance.
    jpegCodec = undefined;
    const reason = jpegMessages.at(-1) ?? String(error);
    throw new ImageDecodeError(`Cannot decode JPEG image: ${reason}`, { cause: error });
  }
  if (!image) throw new ImageDecodeError("Cannot decode JPEG image: the decoder returned nothing");
  // libjpeg pads a cut-off file with gray and only warns; PIL refuses it.
  if (jpegMessages.some((m) => m.startsWith("Premature end of JPEG file"))) {
    throw new ImageDecodeError("Cannot decode JPEG image: the data is truncated");
  }
  const rgba = image.data;
  const data = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j];
    data[i + 1] = rgba[j + 1];
    data[i + 2] = rgba[j + 2];
  }
  return { width: image.width, height: image.height, data };
}
