"""The browser UI in everyday use (issue 18): defects and rough edges found by trying chatd as a
new user. Headless Chromium against a real chatd; two browsers share the module's server (each
test uses its own names), the day-line test gets its own server (it rewrites message times in
the database) and the closed-registration test one with that flag. Every wait is explicit."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import login, signed_in_pair, message_texts, new_browser, send, severe_console_errors, tab, wait, wait_message, wait_online
from conftest import PASSWORD, QUIET_FLAGS, connect_user, run, unique_name

SHOTS = "/tmp/shots/browser"


@pytest.fixture(scope="module")
def pair(server):
    """Two signed-in browsers on the module's server, at an exact 1280×800: (driver, name) pairs."""
    yield from signed_in_pair(server, lambda: desktop(new_browser(1280, 800)))


@pytest.fixture(scope="module")
def solo():
    driver = desktop(new_browser(1280, 800))
    yield driver
    driver.quit()


def open_chat(driver, chat: str):
    tab(driver, chat).click()
    wait(driver, lambda d: tab(d, chat).get_attribute("aria-current") == "page")


def open_direct(driver, user: str):
    """Opens a direct chat from the users panel (the chat list may not have it yet)."""
    driver.find_element(By.CSS_SELECTOR, f'#user-list li[data-user="{user}"] button').click()
    wait(driver, lambda d: tab(d, user).get_attribute("aria-current") == "page")


def composer(driver):
    return driver.find_element(By.ID, "composer-input")


def clear_composer(driver):
    box = composer(driver)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    wait(driver, lambda d: composer(d).get_attribute("value") == "")


def users_listed(server, token) -> set[str]:
    r = server.get("/api/users", token)
    assert r.status_code == 200, r.text
    return {u["name"] for u in r.json()["users"]}


def shot(driver, name: str):
    os.makedirs(SHOTS, exist_ok=True)
    assert driver.save_screenshot(f"{SHOTS}/{name}.png")


def set_viewport(driver, width: int, height: int, mobile: bool):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile, "maxTouchPoints": 5 if mobile else 1})
    wait(driver, lambda d: d.execute_script("return window.innerWidth") == width)


def desktop(driver):
    """An exact 1280×800 viewport (a window of that size has less: headless keeps room for its frame)."""
    set_viewport(driver, 1280, 800, False)
    return driver


# ------------------------------------------------------------------------------------------------
# defect: the draft followed you across chats

def test_draft_stays_with_its_chat_and_never_leaks(pair, server):
    (a, alice), (b, bob) = pair
    open_chat(b, "broadcast")
    open_direct(a, bob)
    secret = f"private to {bob} only {unique_name('s')}"
    composer(a).send_keys(secret)
    open_chat(a, "broadcast")
    assert composer(a).get_attribute("value") == "", "the direct chat's draft followed to Broadcast"
    # Enter in Broadcast sends nothing (there is nothing to send) and says so
    composer(a).send_keys(Keys.ENTER)
    wait(a, lambda d: d.find_element(By.ID, "composer-error").text == "Message is empty")
    # a marker sent after it: were the secret sent, it would arrive first
    marker = f"public marker {unique_name('p')}"
    composer(a).send_keys(marker, Keys.ENTER)
    wait_message(b, marker)
    assert not any(secret in t for t in message_texts(b)), "the private draft reached everyone"
    assert all(secret not in m["message"] for m in server.history(server.login(bob), "broadcast", limit=200)["messages"])
    # each chat has its own draft, restored on return and kept across a reload (this tab only)
    public = f"broadcast draft {unique_name('b')}"
    composer(a).send_keys(public)
    open_chat(a, bob)
    assert composer(a).get_attribute("value") == secret, "the direct chat's draft was not restored"
    a.refresh()
    wait_online(a)
    wait(a, lambda d: tab(d, bob).get_attribute("aria-current") == "page")
    wait(a, lambda d: composer(d).get_attribute("value") == secret, message="draft lost by a reload")
    open_chat(a, "broadcast")
    assert composer(a).get_attribute("value") == public
    clear_composer(a)
    open_chat(a, bob)
    clear_composer(a)
    open_chat(a, "broadcast")


# ------------------------------------------------------------------------------------------------
# login without accidental accounts

def test_login_asks_before_creating_an_account(server, solo):
    observer = server.login(unique_name("Obs"))
    name = unique_name("Erin")
    solo.get(server.base + "/")
    wait(solo, lambda d: d.find_element(By.ID, "login-name").is_displayed())
    solo.find_element(By.ID, "login-name").send_keys(name)
    solo.find_element(By.ID, "login-password").send_keys(PASSWORD, Keys.ENTER)
    question = solo.find_element(By.ID, "login-create")
    wait(solo, lambda d: question.is_displayed(), message="a new name was not questioned")
    assert solo.find_element(By.ID, "login-create-text").text == f"No account '{name}' — create it?"
    assert name not in users_listed(server, observer), "the first attempt created the account"
    assert solo.find_element(By.ID, "login-view").is_displayed()
    # Enter again (out of habit) asks again, it never creates; "Back" withdraws the question
    solo.find_element(By.ID, "login-password").send_keys(Keys.ENTER)
    wait(solo, lambda d: question.is_displayed() and d.find_element(By.ID, "login-create-yes").is_enabled())
    solo.find_element(By.ID, "login-create-no").click()
    wait(solo, lambda d: not question.is_displayed() and d.find_element(By.ID, "login-submit").is_displayed())
    assert name not in users_listed(server, observer), "a mistyped name became an account"
    # editing the name withdraws the question too: it was about the old name
    solo.find_element(By.ID, "login-submit").click()
    wait(solo, lambda d: question.is_displayed())
    solo.find_element(By.ID, "login-name").send_keys("x")
    wait(solo, lambda d: not question.is_displayed())
    assert name + "x" not in users_listed(server, observer)
    solo.find_element(By.ID, "login-name").send_keys(Keys.BACKSPACE)
    # accepting creates it and signs in
    solo.find_element(By.ID, "login-submit").click()
    wait(solo, lambda d: question.is_displayed())
    solo.find_element(By.ID, "login-create-yes").click()
    wait_online(solo)
    assert "created" in solo.find_element(By.ID, "notice-text").text
    assert name in users_listed(server, observer)
    # an existing name with a wrong password is just wrong, never a question
    solo.find_element(By.ID, "logout-btn").click()
    wait(solo, lambda d: d.find_element(By.ID, "login-view").is_displayed())
    solo.find_element(By.ID, "login-name").clear()
    solo.find_element(By.ID, "login-name").send_keys(name)
    solo.find_element(By.ID, "login-password").send_keys("not the password", Keys.ENTER)
    wait(solo, lambda d: d.find_element(By.ID, "login-msg").text == "Wrong name or password.")
    assert not question.is_displayed()


def test_closed_registration_never_asks(make_server, solo):
    s = make_server(*QUIET_FLAGS, "--registration", "closed")
    solo.get(s.base + "/")
    wait(solo, lambda d: d.find_element(By.ID, "login-name").is_displayed())
    solo.find_element(By.ID, "login-name").send_keys(unique_name("Nobody"))
    solo.find_element(By.ID, "login-password").send_keys(PASSWORD, Keys.ENTER)
    wait(solo, lambda d: d.find_element(By.ID, "login-msg").text == "Wrong name or password.")
    assert not solo.find_element(By.ID, "login-create").is_displayed()
    shot(solo, "desktop-login-closed")


# ------------------------------------------------------------------------------------------------
# how messages read: groups, links, actions

def group_of(driver, text: str) -> dict:
    """The group (bubble) holding the message `text`: its header names and its message texts."""
    return driver.execute_script("""
        const msg = [...document.querySelectorAll('#messages .msg')].find(m => m.querySelector('.msg-text').textContent === arguments[0]);
        if (!msg) return null;
        const g = msg.closest('.group');
        return g && {from: [...g.querySelectorAll('.msg-from')].map(e => e.textContent),
                     times: g.querySelectorAll('.msg-time').length,
                     texts: [...g.querySelectorAll('.msg-text')].map(e => e.textContent),
                     mine: g.classList.contains('mine'), header: g.querySelector('.msg-meta') ? g.querySelector('.msg-meta').textContent : ''};
    """, text)


def test_messages_group_by_sender(pair):
    (a, alice), (b, bob) = pair
    open_chat(a, "broadcast")
    open_chat(b, "broadcast")
    run_id = unique_name("g")
    start = f"{run_id} bob starts"          # so that Alice's earlier messages are not in her group
    send(b, start)
    wait_message(a, start)
    mine = [f"{run_id} first", f"{run_id} second", f"{run_id} third"]
    for t in mine:
        send(a, t)
        wait_message(a, t)
    reply = f"{run_id} reply from bob"
    send(b, reply)
    after = f"{run_id} alice again"
    wait_message(a, reply)
    send(a, after)
    for d in (a, b):
        wait_message(d, after)
        g = group_of(d, mine[0])
        assert g["texts"] == mine and g["from"] == [alice] and g["times"] == 1, g
        assert group_of(d, reply)["texts"] == [reply]
        assert group_of(d, after)["texts"] == [after] and group_of(d, after)["from"] == [alice], "a reply in between starts a new group"
    assert group_of(a, mine[0])["mine"] and "(you)" not in group_of(a, mine[0])["header"], "'(you)' on one's own bubbles"
    # density: a message in a group costs one line, not a bubble with a header
    heights = a.execute_script("""
        const g = [...document.querySelectorAll('#messages .msg')].find(m => m.querySelector('.msg-text').textContent === arguments[0]).closest('.group');
        const single = [...document.querySelectorAll('#messages .msg')].find(m => m.querySelector('.msg-text').textContent === arguments[1]).closest('.group');
        const line = parseFloat(getComputedStyle(g.querySelector('.msg-text')).lineHeight);
        return {group: g.getBoundingClientRect().height, single: single.getBoundingClientRect().height, line};
    """, mine[0], reply)
    per_extra = (heights["group"] - heights["single"]) / 2
    assert per_extra <= heights["line"] + 8, f"a grouped message costs {per_extra:.0f} px: {heights}"
    # one message used to be a bubble with a header, plus the 6 px between bubbles
    assert (heights["single"] + 6) / per_extra >= 2, heights


def test_links_are_http_only_and_safe(pair):
    (a, _), (b, _) = pair
    open_chat(a, "broadcast")
    open_chat(b, "broadcast")
    text = (f"see https://example.com/a_(b)?q=1&r=2#frag. and (http://x.test/p) or javascript:alert(1) "
            f"and javascript:http://y.test/ and ftp://z.test/ {unique_name('l')}")
    send(a, text)
    for d in (a, b):
        wait_message(d, text)
        links = d.execute_script("""
            const msg = [...document.querySelectorAll('#messages .msg')].find(m => m.querySelector('.msg-text').textContent === arguments[0]);
            return [...msg.querySelectorAll('a')].map(x => ({href: x.getAttribute('href'), text: x.textContent,
                                                           rel: x.getAttribute('rel'), target: x.getAttribute('target')}));
        """, text)
        assert links == [
            {"href": "https://example.com/a_(b)?q=1&r=2#frag", "text": "https://example.com/a_(b)?q=1&r=2#frag",
             "rel": "noopener noreferrer", "target": "_blank"},
            {"href": "http://x.test/p", "text": "http://x.test/p", "rel": "noopener noreferrer", "target": "_blank"},
        ], links
        assert d.find_elements(By.CSS_SELECTOR, '#messages a[href^="javascript"], #messages a[href^="ftp"]') == []
    # a message that is only a javascript: URL stays text
    evil = f"javascript:alert(document.cookie)//{unique_name('j')}"
    send(a, evil)
    wait_message(b, evil)
    assert b.find_elements(By.XPATH, f'//div[@class="msg-text"][.="{evil}"]/a') == []


def test_me_action_is_one_italic_line(pair):
    (a, alice), (b, _) = pair
    open_chat(a, "broadcast")
    open_chat(b, "broadcast")
    action = f"* {alice} waves {unique_name('w')}"
    send(a, action)
    not_action = f"* {alice}x is not alice {unique_name('n')}"   # another name: an ordinary message
    send(a, not_action)
    for d in (a, b):
        wait_message(d, not_action)
        info = d.execute_script("""
            const msg = [...document.querySelectorAll('#messages .msg')].find(m => m.querySelector('.msg-text').textContent === arguments[0]);
            return {action: msg.classList.contains('action'), header: !!msg.querySelector('.msg-from'),
                    inGroup: !!msg.closest('.group'), italic: getComputedStyle(msg).fontStyle};
        """, action)
        assert info == {"action": True, "header": False, "inGroup": False, "italic": "italic"}, info
        assert group_of(d, not_action) is not None, "a '* name' of someone else is an ordinary message"


# ------------------------------------------------------------------------------------------------
# the "new messages" divider

def test_opening_a_chat_starts_at_the_first_unread(pair, server):
    (a, alice), _ = pair
    open_chat(a, "broadcast")
    hal = unique_name("Hal")
    read_texts = [f"already read {i:02d}" for i in range(5)]
    new_texts = [f"new one {i:02d} with a longer line to fill the pane" for i in range(40)]

    async def write(texts, token=None):
        client = await connect_user(server, hal, token=token)
        for t in texts:
            await client.direct(alice, t)
        await client.sync()
        await client.close()
        return client.token
    token = run(write(read_texts))
    wait(a, lambda d: d.find_elements(By.CSS_SELECTOR, f'#chat-tabs .tab[data-chat="{hal.lower()}"]'))
    open_chat(a, hal)
    wait_message(a, read_texts[-1])
    # all five were unread: the divider is above the first
    assert a.execute_script("return document.getElementById('unread-divider').nextElementSibling.querySelector('.msg-text').textContent") == read_texts[0]
    open_chat(a, "broadcast")
    open_chat(a, hal)
    assert a.find_elements(By.ID, "unread-divider") == [], "a divider without unread messages"
    open_chat(a, "broadcast")
    run(write(new_texts, token))
    wait(a, lambda d: tab(d, hal).find_elements(By.CSS_SELECTOR, ".badge") and tab(d, hal).find_element(By.CSS_SELECTOR, ".badge").text == "40")
    open_chat(a, hal)
    wait_message(a, new_texts[-1])
    where = a.execute_script("""
        const pane = document.getElementById('messages'), d = document.getElementById('unread-divider');
        if (!d) return null;
        const next = d.nextElementSibling.querySelector('.msg-text').textContent;
        const top = d.getBoundingClientRect().top - pane.getBoundingClientRect().top;
        return {next, top, height: pane.clientHeight, atBottom: pane.scrollHeight - pane.scrollTop - pane.clientHeight < 5,
                text: d.textContent};
    """)
    assert where is not None, "no 'new messages' divider"
    assert where["next"] == new_texts[0] and where["text"] == "New messages", where
    assert 0 <= where["top"] < where["height"] / 2 and not where["atBottom"], f"the view does not start at the divider: {where}"
    shot(a, "desktop-new-messages-divider")
    # the divider is for one visit: gone when coming back
    open_chat(a, "broadcast")
    open_chat(a, hal)
    assert a.find_elements(By.ID, "unread-divider") == []
    open_chat(a, "broadcast")


# ------------------------------------------------------------------------------------------------
# day lines and the browser's locale (own server: message times are rewritten in its database)

def test_day_lines_and_locale_times(make_server):
    if os.environ.get("CHATD_E2E_DATABASE") == "postgres":
        pytest.skip("rewrites message times in the SQLite database")
    s = make_server(*QUIET_FLAGS)
    ivy, jon = unique_name("Ivy"), unique_name("Jon")
    texts = ["old year one", "old year two, 10 minutes later", "old year three", "yesterday's", "today's",
             "see https://example.com/docs for the notes"]

    async def write():
        i = await connect_user(s, ivy)
        j = await connect_user(s, jon)
        # each sync waits for the server to have taken the messages: ids follow this order
        for t in texts[:2]:
            await i.broadcast(t)
        await i.sync()
        await j.broadcast(texts[2])
        await j.sync()
        for t in texts[3:]:
            await i.broadcast(t)
        await i.sync()
        await i.close()
        await j.close()
    run(write())
    s.kill()
    now = datetime.now().astimezone()
    local = now.tzinfo
    # today's two at most a minute apart, both today and in the past whatever the hour ("now minus
    # three minutes" is yesterday just after midnight)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_today = midnight + (now - midnight) / 2
    second_today = first_today + min(timedelta(minutes=1), (now - midnight) / 4)
    stamps = [datetime(2023, 12, 4, 9, 30, tzinfo=local), datetime(2023, 12, 4, 9, 40, tzinfo=local),
              datetime(2023, 12, 4, 9, 41, tzinfo=local),
              (now - timedelta(days=1)).replace(hour=18, minute=5), first_today, second_today]
    with sqlite3.connect(s.data_dir / "chatd.sqlite") as conn:
        for text, when in zip(texts, stamps):
            n = conn.execute("UPDATE messages SET created_at = ? WHERE body = ?",
                             (int(when.astimezone(timezone.utc).timestamp() * 1000), text)).rowcount
            assert n == 1, text
    s.start()
    driver = desktop(new_browser(1280, 800, lang="en-GB"))
    try:
        login(driver, s.base, unique_name("Kim"))
        wait_message(driver, texts[-1])
        days = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages .day-sep")]
        assert days == ["Monday, 4 December 2023", "Yesterday", "Today"], days
        # one line before each day's first message, nowhere else
        order = driver.execute_script("""
            return [...document.querySelectorAll('#messages .day-sep, #messages .msg')].map(e =>
                e.classList.contains('day-sep') ? '|' : e.querySelector('.msg-text').textContent);""")
        assert order == ["|", texts[0], texts[1], texts[2], "|", texts[3], "|", texts[4], texts[5]], order
        # 10 minutes apart: two groups of one sender; 24-hour clock in en-GB
        assert group_of(driver, texts[0])["texts"] == [texts[0]] and group_of(driver, texts[1])["texts"] == [texts[1]]
        times = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages .msg-time")]
        assert times[:2] == ["09:30", "09:40"] and all(re.fullmatch(r"\d\d:\d\d", t) for t in times), times
        shot(driver, "desktop-day-lines-links")
        set_viewport(driver, 390, 844, True)
        shot(driver, "phone-day-lines-links")
        desktop(driver)
    finally:
        driver.quit()
    # the same in an en-US browser: its own clock format
    driver = new_browser(1280, 800, lang="en-US")
    try:
        login(driver, s.base, unique_name("Lou"))
        wait_message(driver, texts[-1])
        assert driver.find_elements(By.CSS_SELECTOR, "#messages .day-sep")[0].text == "Monday, December 4, 2023"
        assert driver.find_element(By.CSS_SELECTOR, "#messages .msg-time").text == "9:30 AM"
    finally:
        driver.quit()


# ------------------------------------------------------------------------------------------------
# phone and desktop layout

def no_overflow(driver) -> dict:
    return driver.execute_script("""
        const doc = document.documentElement;
        return {hscroll: doc.scrollWidth > window.innerWidth + 1, vscroll: doc.scrollHeight > window.innerHeight + 1,
                body: document.body.scrollHeight > window.innerHeight + 1};""")


def test_phone_drawer_files_view_and_pinned_composer(pair):
    (a, alice), (b, bob) = pair
    open_chat(a, "broadcast")
    for i in range(3):
        send(b, f"phone filler {i} {unique_name('f')}")
    try:
        set_viewport(a, 390, 844, True)
        drawer_btn = a.find_element(By.ID, "drawer-btn")
        wait(a, lambda d: drawer_btn.is_displayed(), message="no drawer button at 390 px")
        assert drawer_btn.get_attribute("aria-expanded") == "false" and "Chats" in drawer_btn.text
        assert not a.find_element(By.ID, "chat-tabs").is_displayed() and not a.find_element(By.ID, "user-list").is_displayed()
        assert not a.find_element(By.ID, "files-panel").is_displayed(), "the files panel is not a separate view on a phone"
        assert no_overflow(a) == {"hscroll": False, "vscroll": False, "body": False}, no_overflow(a)
        # the composer is pinned to the bottom of the screen
        bottom = a.execute_script("return document.getElementById('composer').getBoundingClientRect().bottom")
        assert abs(bottom - 844) <= 1, f"composer ends at {bottom}, not at the bottom"
        shot(a, "phone-chat")
        # the drawer: chats and users, one labelled panel; choosing a chat closes it
        drawer_btn.click()
        wait(a, lambda d: d.find_element(By.ID, "chat-tabs").is_displayed() and d.find_element(By.ID, "user-list").is_displayed())
        assert drawer_btn.get_attribute("aria-expanded") == "true"
        assert a.find_element(By.ID, "drawer").get_attribute("aria-label") == "Chats and users"
        wait(a, lambda d: d.execute_script("return document.getElementById('drawer').getBoundingClientRect().left") >= 0)
        shot(a, "phone-drawer-open")
        a.find_element(By.ID, "drawer-close").click()
        wait(a, lambda d: drawer_btn.get_attribute("aria-expanded") == "false" and not d.find_element(By.ID, "chat-tabs").is_displayed())
        drawer_btn.click()
        wait(a, lambda d: d.find_element(By.ID, "user-list").is_displayed())
        a.find_element(By.CSS_SELECTOR, f'#user-list li[data-user="{bob}"] button').click()
        wait(a, lambda d: tab(d, bob).get_attribute("aria-current") == "page" and drawer_btn.get_attribute("aria-expanded") == "false")
        wait(a, lambda d: not d.find_element(By.ID, "chat-tabs").is_displayed())
        # the files: a view of their own, without "drop files here" on a touch screen
        files_btn = a.find_element(By.ID, "files-btn")
        files_btn.click()
        wait(a, lambda d: d.find_element(By.ID, "files-panel").is_displayed() and not d.find_element(By.ID, "messages").is_displayed())
        assert files_btn.get_attribute("aria-pressed") == "true"
        assert not a.find_element(By.CSS_SELECTOR, ".drop-hint").is_displayed(), "'drop files here' on a touch screen"
        assert no_overflow(a) == {"hscroll": False, "vscroll": False, "body": False}, no_overflow(a)
        shot(a, "phone-files-view")
        files_btn.click()
        wait(a, lambda d: d.find_element(By.ID, "messages").is_displayed() and not d.find_element(By.ID, "files-panel").is_displayed())
        # a message arriving in another chat shows on the drawer button
        send(b, f"ping for the badge {unique_name('p')}")
        wait(a, lambda d: d.find_element(By.ID, "drawer-badge").is_displayed(), message="no unread count on the drawer button")
        shot(a, "phone-unread-on-drawer-button")
        open_chat_in_drawer(a, "broadcast")
    finally:
        desktop(a)
    wait(a, lambda d: d.find_element(By.ID, "chat-tabs").is_displayed())


def open_chat_in_drawer(driver, chat):
    driver.find_element(By.ID, "drawer-btn").click()
    wait(driver, lambda d: tab(d, chat).is_displayed())
    tab(driver, chat).click()
    wait(driver, lambda d: tab(d, chat).get_attribute("aria-current") == "page")


def test_desktop_files_panel_collapses_and_is_remembered(pair):
    (a, _), _ = pair
    panel = a.find_element(By.ID, "files-panel")
    files_btn = a.find_element(By.ID, "files-btn")
    assert panel.is_displayed() and files_btn.get_attribute("aria-pressed") == "true"
    assert a.find_element(By.CSS_SELECTOR, ".drop-hint").is_displayed(), "'drop files here' hidden on a desktop"
    width = a.find_element(By.ID, "messages").size["width"]
    files_btn.click()
    wait(a, lambda d: not d.find_element(By.ID, "files-panel").is_displayed())
    assert files_btn.get_attribute("aria-pressed") == "false"
    assert a.find_element(By.ID, "messages").size["width"] > width + 200, "the chat does not take the room"
    a.refresh()
    wait_online(a)
    assert not a.find_element(By.ID, "files-panel").is_displayed(), "collapsed panel not remembered"
    shot(a, "desktop-files-collapsed")
    a.find_element(By.ID, "files-btn").click()
    wait(a, lambda d: d.find_element(By.ID, "files-panel").is_displayed())
    a.refresh()
    wait_online(a)
    assert a.find_element(By.ID, "files-panel").is_displayed()


# ------------------------------------------------------------------------------------------------
# pictures of the pieces above, and the console

def test_screenshots_of_login_and_grouped_chat(pair, solo, server):
    (a, alice), (b, bob) = pair
    open_chat(a, "broadcast")
    open_chat(b, "broadcast")
    send(b, "Morning! The deploy notes are at https://example.com/wiki/deploy-2026 — have a look.")
    send(b, "Ping me when you are in.")
    send(a, "On it.")
    send(a, f"* {alice} grabs a coffee first")
    send(a, "Back. Reading now.")
    wait_message(b, "Back. Reading now.")
    shot(a, "desktop-chat-grouped")
    set_viewport(a, 390, 844, True)
    shot(a, "phone-chat-grouped")
    desktop(a)
    solo.delete_all_cookies()
    solo.get(server.base + "/")
    wait(solo, lambda d: d.find_element(By.ID, "login-name").is_displayed())
    shot(solo, "desktop-login")
    solo.find_element(By.ID, "login-name").send_keys("erin")
    solo.find_element(By.ID, "login-password").send_keys(PASSWORD, Keys.ENTER)
    wait(solo, lambda d: d.find_element(By.ID, "login-create").is_displayed())
    shot(solo, "desktop-login-create-question")
    set_viewport(solo, 390, 844, True)
    shot(solo, "phone-login-create-question")
    desktop(solo)


def test_no_console_errors(pair):
    expected = re.compile(r"/api/(me|login) - Failed to load resource: the server responded with a status of (401|429)")
    for driver, name in pair:
        errors = [e for e in severe_console_errors(driver) if not expected.search(e["message"])]
        assert errors == [], f"console errors in {name}'s browser: {errors}"
