import { describe, expect, it } from "vitest";
import { readZip } from "../../src/github/read-zip.ts";
import { writeZip } from "./write-zip.ts";

// Written by Python's zipfile: result.json deflated, train.log stored, and an archive comment.
const PYTHON_ZIP =
  "UEsDBBQAAAAIAAAAIQC/b7RwJAAAACMAAAALAAAAcmVzdWx0Lmpzb26rViouSSwpLVayUlDKz1bSUVAqS8yJTypIAgoY6FlamlvWAgBQSwMEFAAAAAAAuoB6XYFp6m7MAQAAzAEAAAkAAAB0cmFpbi5sb2dzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKc3RlcCAwMDAwMSB8IGxvc3MgOS4wMQpzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKc3RlcCAwMDAwMSB8IGxvc3MgOS4wMQpzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKc3RlcCAwMDAwMSB8IGxvc3MgOS4wMQpzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKc3RlcCAwMDAwMSB8IGxvc3MgOS4wMQpzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKc3RlcCAwMDAwMSB8IGxvc3MgOS4wMQpzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKc3RlcCAwMDAwMSB8IGxvc3MgOS4wMQpzdGVwIDAwMDAxIHwgbG9zcyA5LjAxCnN0ZXAgMDAwMDEgfCBsb3NzIDkuMDEKUEsBAhQDFAAAAAgAAAAhAL9vtHAkAAAAIwAAAAsAAAAAAAAAAAAAAIABAAAAAHJlc3VsdC5qc29uUEsBAhQDFAAAAAAAuoB6XYFp6m7MAQAAzAEAAAkAAAAAAAAAAAAAAIABTQAAAHRyYWluLmxvZ1BLBQYAAAAAAgACAHAAAABAAgAAFgBtYWRlIGJ5IHB5dGhvbiB6aXBmaWxl";

describe("readZip", () => {
  it("reads deflated and stored entries of an archive written by another implementation", () => {
    const files = readZip(Buffer.from(PYTHON_ZIP, "base64"));
    expect([...files.keys()]).toEqual(["result.json", "train.log"]);
    expect(JSON.parse(files.get("result.json")!.toString())).toEqual({ status: "ok", val_bpb: 0.9979 });
    expect(files.get("train.log")!.toString()).toBe("step 00001 | loss 9.01\n".repeat(20));
  });

  it("reads what the test helper writes, and refuses what is not a zip", () => {
    const zip = writeZip({ "a.txt": "hello", "dir/b.json": "{}" });
    expect(Object.fromEntries([...readZip(zip)].map(([k, v]) => [k, v.toString()]))).toEqual({ "a.txt": "hello", "dir/b.json": "{}" });
    expect(() => readZip(Buffer.from("not a zip at all, just some text that is long enough"))).toThrow(
      "Expected a zip archive, got 52 bytes without an end-of-central-directory record",
    );
  });
});
