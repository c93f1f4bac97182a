"""Headless Chromium helpers for the browser UI tests (see DESIGN.md, Chromium pitfalls).

Nothing here decides an answer: helpers start browsers, sign in and wait (always bounded)."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD

WAIT = 12.0


def new_browser(width: int = 1440, height: int = 900, lang: str | None = None) -> webdriver.Chrome:
    """`lang` ("en-GB") sets the browser's locale, for tests of dates and times shown in it."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/lib/chromium/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                "--no-proxy-server", "--disable-gpu"):
        options.add_argument(arg)
    if lang:
        options.add_argument(f"--lang={lang}")
        options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    # console messages (CSP violations, failed requests, uncaught errors) for the no-errors test
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the path is required: without it Selenium tries to download a driver
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    if lang:
        # headless Chromium takes navigator.language from --lang but Intl's default locale from
        # the environment: this makes both the one asked for
        driver.execute_cdp_cmd("Emulation.setLocaleOverride", {"locale": lang})
    return driver


def wait(driver, condition, timeout: float = WAIT, message: str = ""):
    # lists are re-rendered on every event: an element may go stale between find and read
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition, message)


def login(driver, base: str, name: str, password: str = PASSWORD, create: bool = True) -> None:
    """Opens the UI, signs in through the form and waits for the live session (`Online`). A new
    name is created by answering the form's "No account … — create it?" (with `create`)."""
    driver.get(base + "/")
    wait(driver, lambda d: d.find_element(By.ID, "login-name").is_displayed(), message="login form not shown")
    driver.find_element(By.ID, "login-name").send_keys(name)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    if create:
        def asked(d):   # find_elements: a page without the question (an older UI) signs in anyway
            return any(e.is_displayed() for e in d.find_elements(By.ID, "login-create"))
        wait(driver, lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") == "online" or asked(d),
             message="neither signed in nor asked to create")
        if asked(driver):
            driver.find_element(By.ID, "login-create-yes").click()
    wait_online(driver)


def wait_online(driver, timeout: float = WAIT) -> None:
    wait(driver, lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") == "online",
         timeout, "WebSocket session not online")


def send(driver, text: str) -> None:
    box = driver.find_element(By.ID, "composer-input")
    box.send_keys(text)
    driver.find_element(By.ID, "send-btn").click()


def message_texts(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#messages .msg .msg-text")]


def wait_message(driver, text: str, timeout: float = WAIT) -> None:
    wait(driver, lambda d: text in message_texts(d), timeout, f"message {text!r} not shown")


def tab(driver, chat: str):
    """The chat list entry for "broadcast" or a user's name (keys are lower-cased)."""
    return driver.find_element(By.CSS_SELECTOR, f'#chat-tabs .tab[data-chat="{chat.lower()}"]')


def badge_text(driver, chat: str) -> str | None:
    badges = tab(driver, chat).find_elements(By.CSS_SELECTOR, ".badge")
    return badges[0].text if badges else None


def file_names(driver) -> list[str]:
    return [e.get_attribute("data-name") for e in driver.find_elements(By.CSS_SELECTOR, "#file-list li.file")]


def severe_console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def file_row(driver, name: str) -> dict | None:
    """One row of the files panel read in a single script (no stale elements): its text, whether it
    has a delete button, and its download link; None when the file is not listed."""
    return driver.execute_script("""
        const row = [...document.querySelectorAll('#file-list li.file')].find(li => li.dataset.name === arguments[0]);
        if (!row) return null;
        const a = row.querySelector('a.file-name');
        return {text: row.innerText, deletable: !!row.querySelector('button.delete'),
                download: a && a.getAttribute('download'), href: a && a.getAttribute('href')};
    """, name)


def click_delete(driver, name: str) -> None:
    wait(driver, lambda d: (d.execute_script("""
        const row = [...document.querySelectorAll('#file-list li.file')].find(li => li.dataset.name === arguments[0]);
        const button = row && row.querySelector('button.delete');
        if (button) { setTimeout(() => button.click(), 0); return true; }
        return false;
    """, name)), message=f"no delete button for {name}")


def signed_in_pair(server, make_driver=new_browser):
    """Two browsers signed in as new users Alice… and Bob… on `server`, each showing the other
    online (Bob's join reaches Alice live): a generator for a module fixture, yielding
    [(driver, name), (driver, name)] and closing both browsers afterwards."""
    from conftest import unique_name
    drivers = []
    try:
        pair = []
        for prefix in ("Alice", "Bob"):
            driver = make_driver()
            drivers.append(driver)
            name = unique_name(prefix)
            login(driver, server.base, name)
            pair.append((driver, name))
        for driver, _ in pair:
            other = pair[1][1] if driver is pair[0][0] else pair[0][1]
            wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f'#user-list li.user.online[data-user="{other}"]'),
                 message=f"{other} not shown online")
        yield pair
    finally:
        for driver in drivers:
            driver.quit()
