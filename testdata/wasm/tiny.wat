;; tiny.wat: source of tiny.wasm, a minimal core module (no imports).
;; Exports add(i32, i32) -> i32 and a 1-page linear memory.
;; It is also the core module wrapped by component.wasm (see wit/tiny.wit).
(module
  (memory (export "memory") 1)
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.add))
