#[link(wasm_import_module = "host")]
unsafe extern "C" {
    fn get_id() -> u32;
    fn get_value_size(id: u32) -> u32;
    fn get_value_addr(id: u32) -> *mut u8;
    fn set_value(id: u32, ptr: *mut u8, size: u32);
}
#[unsafe(no_mangle)] pub extern "C" fn alloc(size: u32) -> *mut u8 { Box::leak(vec![0u8; size as usize].into_boxed_slice()).as_mut_ptr() }
#[unsafe(no_mangle)] pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: u32) { drop(unsafe { owned(ptr, size) }) }
unsafe fn owned(ptr: *mut u8, size: u32) -> Box<[u8]> { unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, size as usize)) } }
fn take(id: u32) -> Box<[u8]> { unsafe { let size = get_value_size(id); owned(get_value_addr(id), size) } }
fn give(json: String) -> u32 {
    let bytes = Box::leak(json.into_bytes().into_boxed_slice());
    unsafe { let id = get_id(); set_value(id, bytes.as_mut_ptr(), bytes.len() as u32); id }
}
#[unsafe(no_mangle)] pub extern "C" fn functionality() -> u32 { give(r#"[{"name":"greet","params":"string","returns":"string"}]"#.into()) }
#[unsafe(no_mangle)] pub extern "C" fn greet(id: u32) -> u32 {
    let name: String = serde_json::from_slice(&take(id)).unwrap_or_default();
    give(serde_json::json!(format!("Hello, {name}!")).to_string())
}
