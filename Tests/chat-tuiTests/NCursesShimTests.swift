import CNCurses
import Testing

/// The shim exposes what Swift cannot import from ncursesw; these values are fixed by ncurses.
@Suite("ncurses shim")
struct NCursesShimTests {
    @Test func keyAndAttributeMacrosComeThrough() {
        #expect(chat_key_f(1) == KEY_F0 + 1)
        #expect(chat_a_bold() != 0 && chat_a_reverse() != 0 && chat_a_bold() != chat_a_reverse())
    }
}
