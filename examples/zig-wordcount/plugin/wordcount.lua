-- :WordCount          summary of the current buffer in :messages (printed
--                     by the plugin itself, through WASI stdout)
-- :'<,'>WordCount     statistics of the given lines, via vim.notify
if vim.g.loaded_wordcount then
  return
end
vim.g.loaded_wordcount = true

vim.api.nvim_create_user_command('WordCount', function(opts)
  local wordcount = require('wasm_nvim').wordcount
  if opts.range == 0 then
    wordcount.report()
    return
  end
  local s = wordcount.range_stats({ first = opts.line1, last = opts.line2 })
  local function n(count, what)
    return ('%d %s%s'):format(count, what, count == 1 and '' or 's')
  end
  vim.notify(
    ('lines %d-%d: %s, %s, %s, %s, %d blank'):format(
      opts.line1,
      opts.line2,
      n(s.lines, 'line'),
      n(s.words, 'word'),
      n(s.chars, 'char'),
      n(s.bytes, 'byte'),
      s.blank_lines
    )
  )
end, { range = true, desc = 'Count lines, words and characters (wasm_nvim zig-wordcount example)' })
