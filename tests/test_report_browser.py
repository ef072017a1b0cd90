"""score --report in a real headless browser (issue 18): Debian's chromium through chromedriver (Selenium).

The page loads with no console message and no network request, shows every character and the numbers of the
JSON, shows thumbnails, answers a hover with the time and probabilities, and a click on a segment shows its
frames. The screenshot is saved beside the report (`report.png` in the test's tmp folder).
"""

import json
import os
import shutil
import tempfile

import pytest

from conftest import run_cli as run

pytestmark = pytest.mark.slow


def _browser():
    """A headless Chromium with a fresh profile, its console and network logged; skipped (failed in CI) if absent."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[test]')")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        _missing("chromium and chromedriver are not installed (apt-get install chromium chromium-driver; .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,1400",
                f"--user-data-dir={tempfile.mkdtemp(prefix='screentime-chromium-')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)  # no Selenium Manager: the driver is given


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_report_in_a_headless_browser(two_models, tmp_path, capsys):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    d, models, _ = two_models
    code, _, err = run(["score", d / "held out ml.avi", d / "ml0.avi", "--model", models["multi"], "--store", d / "f.h5",
                        "--json", tmp_path / "r.json", "--report", tmp_path / "report.html"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    url = (tmp_path / "report.html").as_uri()
    browser = _browser()
    try:
        browser.get(url)
        text = browser.find_element(By.TAG_NAME, "body").text
        for video in doc["videos"]:
            assert video["video"] in text
            for character, seconds in video["screen_time_s"].items():
                assert character in text and f"{seconds:.1f} s" in text
            assert f"{video['together_s']:.1f} s" in text
        for character, seconds in doc["total_screen_time_s"].items():
            assert f"{seconds:.1f} s" in text
        assert "random weights" in text

        shown = browser.execute_script(
            "const imgs = [...document.querySelectorAll('.segments img')]; imgs[0].scrollIntoView();"
            "return Promise.all(imgs.slice(0, 6).map(i => i.decode().then(() => i.naturalWidth)));")
        assert shown and all(0 < w <= 160 for w in shown)  # thumbnails decoded, at most 160 px wide

        svg = browser.find_element(By.CSS_SELECTOR, "svg.timeline")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", svg)
        ActionChains(browser).move_to_element(svg).perform()
        tooltip = browser.find_element(By.ID, "tooltip")
        assert tooltip.is_displayed() and " s): " in tooltip.text and "jerry " in tooltip.text and "tom " in tooltip.text

        segment = browser.find_elements(By.CSS_SELECTOR, "#video-0 rect.seg")[0]
        label = doc["videos"][0]["segments"][int(segment.get_attribute("data-seg"))]["label"]
        ActionChains(browser).move_to_element(segment).click().perform()
        panel = browser.find_element(By.ID, "frames-0")
        assert label in panel.text and len(panel.find_elements(By.TAG_NAME, "img")) in (1, 2, 3)
        assert browser.find_elements(By.CSS_SELECTOR, "#video-0 .segments tr.selected")

        assert browser.save_screenshot(str(tmp_path / "report.png"))
        console = browser.get_log("browser")
        events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    finally:
        browser.quit()
    assert console == []  # no error, no warning, no message at all
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    fetched = [u for u in requests if not u.startswith(("data:", "chrome:", "about:")) and u != url]
    assert url in requests and fetched == []
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


LAYOUT = """
const svg = document.querySelector("svg.timeline"), plot = svg.querySelector("rect").getBoundingClientRect();
const texts = [...svg.querySelectorAll("text")].map(t => t.getBoundingClientRect());
const sizes = [...svg.querySelectorAll("text")].map(t => parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a);
const labels = [...svg.querySelectorAll("text")].filter(t => t.textContent.startsWith("on at"))
  .map(t => t.getBoundingClientRect());
const boxes = [...document.querySelectorAll(".segments")];
return {overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        smallest_px: Math.min(...sizes), plot_left: plot.left,
        label_right: Math.max(...labels.map(r => r.right), -1), n_threshold_labels: labels.length,
        nested_scroll: boxes.some(b => b.scrollHeight > b.clientHeight + 1),
        details: document.querySelectorAll("dl.provenance details").length,
        text: document.body.innerText};
"""


@pytest.mark.parametrize("width", [800, 1400])
def test_report_reads_at_800_and_1400_px(two_models, tmp_path, capsys, width):
    """Issue 26: the timeline's text is at least 10 px on screen, no threshold label crosses the plot, nothing scrolls
    sideways, the segments table does not scroll in a box of its own; plain words with the statistics in details. The
    screenshots (report-800.png, report-1400.png) are kept in the test's tmp folder to look at."""
    d, models, _ = two_models
    code, _, err = run(["score", d / "held out ml.avi", d / "ml0.avi", "--model", models["multi"], "--store", d / "f.h5",
                        "--report", tmp_path / "report.html"], capsys)
    assert code == 0, err
    browser = _browser()
    try:
        browser.set_window_size(width, 1000)
        browser.get((tmp_path / "report.html").as_uri())
        layout = browser.execute_script(LAYOUT)
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(width, min(height + 120, 6000))
        assert browser.save_screenshot(str(tmp_path / f"report-{width}.png"))
    finally:
        browser.quit()
    assert layout["overflow"] <= 0
    assert layout["smallest_px"] >= 10, layout["smallest_px"]
    assert layout["n_threshold_labels"] >= 2 and layout["label_right"] <= layout["plot_left"]
    assert not layout["nested_scroll"]
    text = layout["text"]
    assert "likely range" in text and "in 4 videos like the ones held out" in text
    assert "interval" not in text.lower().replace("intervals", "")  # the method's words are in the closed details
    assert "jackknife" not in text and "macro_f1" not in text and layout["details"] >= 4
    assert "Under each frame: its time" in text and "p 0." in text
    assert "\nneither\t" in text or "neither" in text.split("Totals over")[1]  # the totals name nobody as the videos do
    assert (tmp_path / f"report-{width}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_subtitles_with_hostile_class_names_keep_one_cue_per_segment_in_chromium():
    """Chromium's own WebVTT parser (a <track> in a <video>) finds one cue per segment, at the segments' times,
    showing each name as text (issue 23): a name holding a blank line, a timing line, tags or ASS overrides."""
    from test_escaping import HOSTILE, hostile_video, shown

    from classifiers.output.subtitles import subtitle_text

    video = hostile_video(HOSTILE)
    browser = _browser()
    try:
        browser.get("about:blank")
        cues = browser.execute_async_script("""
          const done = arguments[arguments.length - 1];
          const video = document.createElement("video"), track = document.createElement("track");
          track.kind = "subtitles";
          track.src = URL.createObjectURL(new Blob([arguments[0]], {type: "text/vtt"}));
          track.addEventListener("load", () => done(Array.from(track.track.cues).map(
            c => [c.startTime, c.endTime, c.getCueAsHTML().textContent])));
          track.addEventListener("error", () => done("the track did not load"));
          video.appendChild(track);
          document.body.appendChild(video);
          track.track.mode = "hidden";
        """, subtitle_text(video, "vtt"))
    finally:
        browser.quit()
    assert [(start, end) for start, end, _ in cues] == [(s.start_s, s.end_s) for s in video.segments]
    assert [shown(text) for _, _, text in cues] == [shown(s.label) for s in video.segments]


def test_report_csp_lets_its_own_script_run_and_no_other(tmp_path):
    """An inline script that escaping missed would not run: the CSP allows the page's script by its hash only."""
    from selenium.webdriver.common.by import By

    from test_escaping import hostile_video

    from classifiers.output.report import report_html
    from classifiers.score import ScoreResult

    video = hostile_video(["tom", "jerry"])
    result = ScoreResult(videos=[video], classes=list(video.classes), model_info={
        "smoothing": {"method": "none"}, "feature_norm": "none", "context_s": 0.0, "embedding_config": {},
        "unlike_training": None, "path": "m.skops"})
    html = report_html(result, thumbnails=False).replace("</body>", "<script>document.title = 'injected ran'</script></body>")
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    browser = _browser()
    try:
        browser.get((tmp_path / "r.html").as_uri())
        title = browser.title
        segment = browser.find_elements(By.CSS_SELECTOR, "#video-0 rect.seg")[0]
        browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}));", segment)
        heading = browser.find_element(By.CSS_SELECTOR, "#frames-0 .frames-heading").text
        console = browser.get_log("browser")
    finally:
        browser.quit()
    assert title != "injected ran" and heading.startswith(("tom, ", "jerry, "))  # the page's own script ran
    assert len(console) == 1 and "Content Security Policy" in console[0]["message"]


def test_cluster_page_in_a_headless_browser(tmp_path, capsys):
    """cluster's page (issue 25) loads with no console message and no request, shows every cluster with its size and
    suggested name, each thumbnail decoded (a face crop, 96 px high), the blurred bin last; a hostile name is text."""
    from selenium.webdriver.common.by import By

    from test_clusters import store_with_sources

    store_with_sources(tmp_path, colour=(30, 120, 200), size=(320, 180))
    (tmp_path / "known.csv").write_text('video,track,label\na.mp4,0,"<img src=x onerror=alert(1)>"\n')
    code, _, err = run(["cluster", "--faces", "--store", tmp_path / "f.h5", "-l", tmp_path / "known.csv",
                        "-o", tmp_path / "clusters.csv"], capsys)
    assert code == 0, err
    url = (tmp_path / "clusters.html").as_uri()
    browser = _browser()
    try:
        browser.get(url)
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.cluster")
        ids = [r.get_attribute("data-cluster") for r in rows]
        text = browser.find_element(By.TAG_NAME, "body").text
        heights = browser.execute_script(
            "const imgs = [...document.querySelectorAll('.thumbs img')];"
            "return Promise.all(imgs.map(i => i.decode().then(() => [i.naturalWidth, i.getBoundingClientRect().height])));")
        images = browser.find_elements(By.CSS_SELECTOR, "img[src^='x']")
        browser.save_screenshot(str(tmp_path / "clusters.png"))
        console = browser.get_log("browser")
        events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    finally:
        browser.quit()
    csv_ids = [line.split(",")[0] for line in (tmp_path / "clusters.csv").read_text().splitlines()[1:]]
    assert ids == csv_ids and ids[-1] == "blurred"
    assert "<img src=x onerror=alert(1)>" in text and images == []  # the name shown as text, never an element
    assert "The blurred / small bin" in text and ("likely" in text or "sure" in text)
    assert len(heights) == 10 and all(w > 0 and h == 96 for w, h in heights)
    assert console == []
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert [u for u in requests if not u.startswith(("data:", "chrome:", "about:")) and u != url] == []


def test_report_of_a_long_cast_reads_whole_names_in_the_timeline(tmp_path):
    """15 characters with long, unicode and right-to-left names over 4 videos: at 800 px every name over its timeline
    row is whole (inside the picture, over no band or probability box), the contents at the top lead to each video,
    the tooltip lists the likeliest few one a line and stays on the page, every thumbnail shows (a frame shared by
    overlapping segments too, though its JPEG is in the page once), and the page logs nothing to the console."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from test_report_scale import cast, cast_result, cast_video, with_source

    from classifiers.output.report import report_html

    classes = cast(15)
    result = cast_result([cast_video(f"ep{i}.mp4", classes, 300, multi_label=True, seed=i) for i in range(4)],
                         classes, True)
    (tmp_path / "r.html").write_text(report_html(with_source(result, tmp_path, 300)), encoding="utf-8")
    browser = _browser()
    try:
        browser.set_window_size(800, 1000)
        browser.get((tmp_path / "r.html").as_uri())
        clashes = browser.execute_script("""
          const out = [];
          document.querySelectorAll("svg.timeline").forEach(svg => {
            const box = svg.getBoundingClientRect(), rects = [...svg.querySelectorAll("rect")].map(r => r.getBoundingClientRect());
            svg.querySelectorAll("text.name").forEach(t => {
              const b = t.getBoundingClientRect();
              if (b.left < box.left || b.right > box.right) out.push(t.textContent + " cut");
              if (rects.some(r => b.left < r.right && r.left < b.right && b.top < r.bottom - 0.5 && r.top < b.bottom - 0.5))
                out.push(t.textContent + " under a band");
            });
          });
          return out;""")
        names = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#video-0 svg.timeline text.name")]
        widths = browser.execute_script(
            "const imgs = [...document.querySelectorAll('#video-0 .segments img')]; imgs.forEach(i => i.loading = 'eager');"
            "return Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth, () => 0)));")
        shared = len(browser.find_elements(By.CSS_SELECTOR, "#video-0 .segments img[data-frame]"))
        svg = browser.find_element(By.CSS_SELECTOR, "#video-0 svg.timeline")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", svg)
        ActionChains(browser).move_to_element_with_offset(svg, svg.size["width"] // 2 - 24, 0).perform()
        tip = browser.find_element(By.ID, "tooltip")
        tip_lines = tip.text.splitlines()
        tip_box = browser.execute_script("const r = arguments[0].getBoundingClientRect();"
                                         "return [r.left, r.right, document.documentElement.clientWidth,"
                                         "document.documentElement.scrollWidth];", tip)
        browser.find_element(By.CSS_SELECTOR, "nav.contents a[href='#video-3']").click()
        at_top = browser.execute_script("return document.getElementById('video-3').getBoundingClientRect().top")
        console = browser.get_log("browser")
    finally:
        browser.quit()
    assert clashes == []
    assert names == classes
    assert shared and widths and all(w == 64 for w in widths)  # each decoded, the shared ones from their first place
    assert 2 <= len(tip_lines) <= 10 and " s): " in tip_lines[0]
    assert 0 <= tip_box[0] and tip_box[1] <= tip_box[2] and tip_box[3] == tip_box[2]  # nothing off the page
    assert abs(at_top) < 2
    assert console == []
