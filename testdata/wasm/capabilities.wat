;; capabilities.wat: the core module of capabilities.wasm (built by
;; src/component/build.mjs). It imports one function from each of
;; wasi:filesystem/types, wasi:cli/environment and wasi:http/outgoing-handler
;; (stand-ins of the WASI 0.2.0 interfaces, see wit/capabilities.wit) and
;; exports run.
(module
  (import "wasi:filesystem/types@0.2.0" "open" (func $open (param i32) (result i32)))
  (import "wasi:cli/environment@0.2.0" "count" (func $count (result i32)))
  (import "wasi:http/outgoing-handler@0.2.0" "handle" (func $handle (param i32) (result i32)))
  (func (export "run") (result i32)
    i32.const 0
    call $open
    call $count
    i32.add
    call $handle))
