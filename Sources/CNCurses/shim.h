// The parts of ncursesw that Swift cannot import directly: wide-character declarations need
// NCURSES_WIDECHAR before the header, and macros and C globals need small functions.
#ifndef CHAT_TUI_CNCURSES_SHIM_H
#define CHAT_TUI_CNCURSES_SHIM_H

#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline WINDOW *chat_stdscr(void) { return stdscr; }
static inline int chat_lines(void) { return LINES; }
static inline int chat_cols(void) { return COLS; }
static inline void chat_set_escdelay(int ms) { ESCDELAY = ms; }

static inline int chat_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int chat_getmaxx(WINDOW *w) { return getmaxx(w); }

static inline attr_t chat_a_bold(void) { return A_BOLD; }
static inline attr_t chat_a_reverse(void) { return A_REVERSE; }
static inline attr_t chat_a_underline(void) { return A_UNDERLINE; }
static inline attr_t chat_a_dim(void) { return A_DIM; }
static inline attr_t chat_color_pair(int n) { return COLOR_PAIR(n); }

static inline int chat_key_f(int n) { return KEY_F(n); }

static inline const cchar_t *chat_wacs_hline(void) { return WACS_HLINE; }
static inline const cchar_t *chat_wacs_vline(void) { return WACS_VLINE; }

#endif
