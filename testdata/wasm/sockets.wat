;; sockets.wat: the core module of sockets.wasm (built by src/component/build.mjs).
;; It imports connect from wasi:sockets/tcp@0.2.0 (a stand-in of the WASI
;; interface, see wit/sockets.wit) and exports run.
(module
  (import "wasi:sockets/tcp@0.2.0" "connect" (func $connect (param i32) (result i32)))
  (func (export "run") (result i32)
    i32.const 80
    call $connect))
