;; plugin.wat: the module every shape under testdata/shapes carries, a stand-in
;; for a published plugin. A WASI preview 1 command: _start writes one line to
;; stdout, so `wasmgate run` can run it. Build: wat2wasm plugin.wat -o plugin.wasm
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: {buf = 16, len = 25}; the text at 16.
  (data (i32.const 0) "\10\00\00\00\19\00\00\00")
  (data (i32.const 16) "hello from a wasm plugin\n")
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
