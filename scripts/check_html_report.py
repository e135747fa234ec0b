#!/usr/bin/env python3
"""Checks `pixelgpt report RUN_DIR... --html DIR` in a real browser (headless Chromium through selenium).

Opens DIR/index.html from the file system and checks that
  - every metric, row count and skipped count shown per task equals the runs' results.json, and every
    leaderboard cell's value is one of them;
  - the "wrong" filter of each classification task's sample browser shows exactly the rows whose prediction
    differs from the gold label in samples_TASK.jsonl (walking every page), and the language filter of a
    browser over several languages shows exactly one language's rows;
  - every strip image of the first page of each pixel and pair task loads (naturalWidth > 0), has alt text,
    and decodes to the same pixels as `pixelgpt render` of the row's text(s) at the run's patches per strip.
With --screenshots DIR, saves desktop and narrow screenshots there (report-html-desktop.png,
report-html-narrow.png). Prints one summary line; exits non-zero with the first failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def fail(message):
    print("check_html_report: " + message, file=sys.stderr)
    sys.exit(1)


def shown(value):
    return "%.1f" % (value * 100)


def browser(width, height):
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--allow-file-access-from-files", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.add_argument("--window-size=%d,%d" % (width, height))
    binary = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if os.path.exists(binary):
        options.binary_location = binary
    driver_path = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    service = Service(executable_path=driver_path) if os.path.exists(driver_path) else Service()
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


def open_page(driver, index):
    driver.get("file://" + os.path.abspath(index))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))


def task_key(run_index, task):
    return "r%d-" % run_index + "".join(c if c.isalnum() or c == "_" else "-" for c in task)


def check_numbers(driver, runs):
    checked = 0
    values = []
    for run_index, (run_dir, results) in enumerate(runs):
        for task in results["tasks"]:
            key = task_key(run_index, task["task"])
            article = driver.find_element(By.ID, key)
            for field in ("rows", "skipped_rows"):
                text = article.find_element(By.CSS_SELECTOR, "[data-field=%s]" % field).text
                if text != str(task[field]):
                    fail("%s: %s shows %r, results.json has %r" % (key, field, text, task[field]))
            for metric, value in task["metrics"].items():
                values.append(value)
                cell = article.find_element(By.CSS_SELECTOR, "table.metrics td[data-metric='%s']" % metric)
                if float(cell.get_attribute("data-value")) != value:
                    fail("%s: %s data-value %s != results.json %r" % (key, metric, cell.get_attribute("data-value"), value))
                expected = shown(value)
                std = (task.get("metrics_std") or {}).get(metric)
                if std is not None:
                    expected += "±" + shown(std)
                if cell.text != expected:
                    fail("%s: %s shows %r, results.json gives %r" % (key, metric, cell.text, expected))
                error = (task.get("metrics_stderr") or {}).get(metric)
                expected_error = "–" if error is None else "%s (%s)" % (shown(error), task["stderr_method"][metric])
                error_cell = cell.find_element(By.XPATH, "following-sibling::td[@class='stderr']")
                if error_cell.text != expected_error:
                    fail("%s: %s standard error shows %r, results.json gives %r" % (key, metric, error_cell.text, expected_error))
                checked += 1
    for cell in driver.find_elements(By.CSS_SELECTOR, "table.leaderboard td[data-value]"):
        value = float(cell.get_attribute("data-value"))
        if value not in values or not cell.text.startswith(shown(value)):
            fail("leaderboard cell %r (%s) is no task's metric in results.json" % (cell.text, value))
        checked += 1
    return checked


def samples(run_dir, task):
    with open(os.path.join(run_dir, task["samples_file"]), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_wrong_filter(driver, runs):
    checked = 0
    for run_index, (run_dir, results) in enumerate(runs):
        for task in results["tasks"]:
            records = samples(run_dir, task)
            if not task["labeled"] or any(len(r["logits"]) < 2 for r in records):
                continue
            key = task_key(run_index, task["task"])
            section = driver.find_element(By.CSS_SELECTOR, "section.browser[data-task='%s']" % key)
            outcome = Select(section.find_element(By.XPATH, ".//label[contains(., 'outcome')]/select"))
            outcome.select_by_value("wrong")
            wrong = sorted(r["index"] for r in records if r["label"] is not None and r["label"] != r["prediction"])
            seen = []
            while True:
                for item in section.find_elements(By.CSS_SELECTOR, "ol.rows > li"):
                    if item.get_attribute("data-outcome") != "wrong":
                        fail("%s: the wrong filter shows row %s marked %s" % (key, item.get_attribute("data-index"), item.get_attribute("data-outcome")))
                    seen.append(int(item.get_attribute("data-index")))
                following = section.find_element(By.XPATH, ".//button[normalize-space()='next page']")
                if not following.is_enabled():
                    break
                following.click()
            if sorted(seen) != wrong:
                fail("%s: the wrong filter shows rows %s, samples have wrong rows %s" % (key, sorted(seen), wrong))
            outcome.select_by_value("all")
            checked += 1
    return checked


def check_language_filter(driver, runs):
    """Each browser over several languages' tasks: choosing a language shows exactly that task's row count."""
    checked = 0
    counts = {}
    for run_index, (run_dir, results) in enumerate(runs):
        for task in results["tasks"]:
            counts[task_key(run_index, task["task"])] = len(samples(run_dir, task))
    for section in driver.find_elements(By.CSS_SELECTOR, "section.browser[data-tasks]"):
        keys = section.get_attribute("data-tasks").split()
        choice = Select(section.find_element(By.XPATH, ".//label[contains(., 'language')]/select"))
        if int(section.get_attribute("data-matching")) != sum(counts[k] for k in keys):
            fail("%s: the combined browser has %s rows, its tasks %d" % (keys, section.get_attribute("data-matching"), sum(counts[k] for k in keys)))
        for key in keys:
            language = driver.execute_script("return window.pixelgptReport.tasks[arguments[0]].language", key)
            choice.select_by_value(language)
            if int(section.get_attribute("data-matching")) != counts[key]:
                fail("%s: language %s shows %s rows, the task has %d" % (key, language, section.get_attribute("data-matching"), counts[key]))
            if any(item.get_attribute("data-language") != language for item in section.find_elements(By.CSS_SELECTOR, "ol.rows > li")):
                fail("%s: language %s shows rows of another language" % (key, language))
            checked += 1
        choice.select_by_value("all")
    return checked


def sequence_length(run_dir, task):
    with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
        return int(json.load(f)["tasks"][task]["sequence-length"])


def check_strips(driver, runs, html_dir, pixelgpt, work):
    checked = 0
    for run_index, (run_dir, results) in enumerate(runs):
        if results["modality"] == "text":
            continue
        renderer = results["renderer"]["renderer_directory"]
        for task in results["tasks"]:
            key = task_key(run_index, task["task"])
            length = sequence_length(run_dir, task["task"])
            section = driver.find_element(By.CSS_SELECTOR, "section.browser[data-task='%s']" % key)
            items = section.find_elements(By.CSS_SELECTOR, "ol.rows > li")
            if not items:
                fail("%s: the sample browser shows no rows" % key)
            for item in items:
                image = item.find_element(By.TAG_NAME, "img")
                driver.execute_script("arguments[0].scrollIntoView()", image)
                WebDriverWait(driver, 20).until(lambda d: d.execute_script("return arguments[0].complete", image))
                if driver.execute_script("return arguments[0].naturalWidth", image) <= 0:
                    fail("%s: the strip of row %s did not load" % (key, item.get_attribute("data-index")))
                if image.get_attribute("loading") != "lazy" or not image.get_attribute("alt"):
                    fail("%s: the strip of row %s is not lazy or has no alt text" % (key, item.get_attribute("data-index")))
                texts = driver.execute_script(
                    "const d = window.pixelgptReport.tasks[arguments[0]]; const r = d.rows.find(r => r.i === Number(arguments[1]));"
                    "return [r.a, r.b === undefined ? null : r.b];", key, item.get_attribute("data-index"))
                shown_a = item.find_elements(By.CSS_SELECTOR, "p.text")[0].text
                if not shown_a.endswith(texts[0].strip()):
                    fail("%s: row %s shows %r, its data says %r" % (key, item.get_attribute("data-index"), shown_a, texts[0]))
                reference = os.path.join(work, "%s-%s.png" % (key, item.get_attribute("data-index")))
                command = [pixelgpt, "render", "--text", texts[0], "--out", reference, "--renderer", renderer,
                           "--max-seq-length", str(length), "--mode", "rgb"]
                if texts[1] is not None:
                    command += ["--pair", texts[1]]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode != 0:
                    fail("pixelgpt render failed for %s row %s: %s" % (key, item.get_attribute("data-index"), done.stderr.strip()))
                page_png = os.path.join(html_dir, "strips", key, item.get_attribute("data-index") + ".png")
                ours, theirs = Image.open(page_png).convert("RGB"), Image.open(reference).convert("RGB")
                if ours.size != theirs.size or ours.tobytes() != theirs.tobytes():
                    fail("%s: the strip of row %s differs from `pixelgpt render` of its text" % (key, item.get_attribute("data-index")))
                checked += 1
    return checked


def screenshots(index, out, task=None):
    os.makedirs(out, exist_ok=True)
    for name, (width, height) in (("desktop", (1280, 1000)), ("narrow", (420, 900))):
        driver = browser(width, height)
        try:
            open_page(driver, index)
            # The sample browser of `task`, else the last one showing strips (a pair run's, after make run).
            selector = "section.browser[data-task='%s'] img" % task if task else "section.browser img"
            target = driver.find_elements(By.CSS_SELECTOR, selector)[-1:] if not task else driver.find_elements(By.CSS_SELECTOR, selector)
            if name == "desktop":
                driver.save_screenshot(os.path.join(out, "report-html-leaderboard.png"))
            if target:
                section = target[0].find_element(By.XPATH, "ancestor::section[contains(@class, 'browser')]")
                target = section.find_elements(By.TAG_NAME, "img")
                driver.execute_script("arguments[0].scrollIntoView()", section)
                driver.execute_script("window.scrollBy(0, -8)")
                WebDriverWait(driver, 20).until(lambda d: d.execute_script("return arguments[0].complete", target[0]))
            driver.save_screenshot(os.path.join(out, "report-html-%s.png" % name))
        finally:
            driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", required=True, help="the directory written by `pixelgpt report --html`")
    parser.add_argument("--pixelgpt", required=True, help="the built pixelgpt tool")
    parser.add_argument("--screenshots", help="save desktop and narrow screenshots into this directory")
    parser.add_argument("--screenshot-task", help="the task key (rK-TASK) whose samples the screenshots show")
    parser.add_argument("--screenshots-only", action="store_true", help="only save the screenshots, check nothing")
    parser.add_argument("runs", nargs="+", help="the run directories given to `pixelgpt report`, in order")
    args = parser.parse_args()
    runs = []
    for run_dir in args.runs:
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
            runs.append((run_dir, json.load(f)))
    index = os.path.join(args.html, "index.html")
    if args.screenshots_only and not args.screenshots:
        parser.error("--screenshots-only needs --screenshots DIR")
    if args.screenshots_only:
        screenshots(index, args.screenshots, args.screenshot_task)
        return
    driver = browser(1280, 1000)
    try:
        open_page(driver, index)
        numbers = check_numbers(driver, runs)
        filters = check_wrong_filter(driver, runs)
        languages = check_language_filter(driver, runs)
        with tempfile.TemporaryDirectory() as work:
            strips = check_strips(driver, runs, os.path.abspath(args.html), args.pixelgpt, work)
    finally:
        driver.quit()
    if strips == 0:
        fail("no strip was checked; give pixel or pair runs")
    if args.screenshots:
        screenshots(index, args.screenshots, args.screenshot_task)
    print("check_html_report: ok: %d numbers, %d wrong filters, %d language filters, %d strips" % (numbers, filters, languages, strips))


if __name__ == "__main__":
    main()
