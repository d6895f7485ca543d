//! Browser APIs reached by name instead of through their typed `web-sys` bindings. A typed
//! binding's glue (its import and the JavaScript shim behind it) lands in the main module that
//! every page loads, even when a single lazy island is its only user; these few generic calls
//! (`Reflect`, `Function`) are shared by all of them. For an island's one-off APIs
//! (`EventSource`, `XMLHttpRequest`, `URL.createObjectURL`) that keeps every other page lighter.

use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys::js_sys::{Array, Function, Reflect, global};

/// `target[key]`, when it is there.
pub fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// `target[key] = value`.
pub fn set(target: &JsValue, key: &str, value: &JsValue) -> bool {
    Reflect::set(target, &JsValue::from_str(key), value).unwrap_or(false)
}

/// `target.method(...args)`; `None` when there is no such method or it threw.
pub fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Option<JsValue> {
    let function: Function = get(target, method)?.dyn_into().ok()?;
    let list: Array = args.iter().copied().collect();
    function.apply(target, &list).ok()
}

/// `new globalThis[class](...args)`; `None` when the browser lacks `class` or it threw.
pub fn construct(class: &str, args: &[&JsValue]) -> Option<JsValue> {
    let constructor: Function = get(&global(), class)?.dyn_into().ok()?;
    let list: Array = args.iter().copied().collect();
    Reflect::construct(&constructor, &list).ok()
}

/// A string property, e.g. an event's `data`.
pub fn text(target: &JsValue, key: &str) -> Option<String> {
    get(target, key)?.as_string()
}
