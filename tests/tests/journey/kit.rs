//! A small kit for driving the system's Chromium (Debian's `chromium` package) over the DevTools
//! protocol: one headless browser, one isolated browser context (its own cookies) per person,
//! form filling, navigation that waits for the next document, and a screenshot per step.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Element, Page};
use futures::StreamExt;
use xg_e2e::app::TestApp;

/// Where the browser is; `XG_CHROMIUM` overrides it. `infra/test.sh` installs the package.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("XG_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into())
}

pub struct Kit {
    pub browser: Browser,
    pub shots: PathBuf,
    step: std::sync::atomic::AtomicUsize,
    _profile: PathBuf,
}

impl Kit {
    /// Starts headless Chromium with a fresh profile. Never downloads anything: a missing
    /// browser is a clear failure naming the package to install.
    pub async fn launch(shots: PathBuf) -> Self {
        let exe = chromium_path();
        assert!(
            exe.exists(),
            "{} not found: install Debian's `chromium` package (infra/test.sh does)",
            exe.display()
        );
        let profile = std::env::temp_dir().join(format!("xg-chromium-{}", uuid::Uuid::new_v4()));
        let config = BrowserConfig::builder()
            .chrome_executable(&exe)
            .user_data_dir(&profile)
            .no_sandbox()
            .viewport(None)
            .window_size(1280, 900)
            .request_timeout(Duration::from_secs(60))
            .launch_timeout(Duration::from_secs(60))
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--disable-component-update",
                "--disable-extensions",
                "--hide-scrollbars",
                "--lang=zh-CN",
            ])
            .build()
            .expect("browser configuration");
        let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
        tokio::spawn(async move { while handler.next().await.is_some() {} });
        std::fs::create_dir_all(&shots).unwrap();
        Self { browser, shots, step: 0.into(), _profile: profile }
    }

    /// A new tab in a browser context of its own: one person's cookies, nobody else's.
    pub async fn person(&self, app: &TestApp) -> Tab {
        let context = self
            .browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .expect("browser context");
        let params = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context)
            .build()
            .unwrap();
        let page = self.browser.new_page(params).await.expect("new tab");
        Tab { page, base: app.base.clone(), is_phone: false.into() }
    }

    /// Saves a full-page PNG of the tab as the next numbered step and returns its path.
    pub async fn shot(&self, tab: &Tab, name: &str) -> PathBuf {
        let n = self.step.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let path = self.shots.join(format!("{n:02}-{name}.png"));
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .full_page(true)
            .build();
        tab.page.save_screenshot(params, &path).await.expect("screenshot");
        // A full-page capture resizes the view and then clears the emulation; a phone stays one.
        if tab.is_phone.load(std::sync::atomic::Ordering::SeqCst) {
            tab.phone().await;
        }
        path
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self._profile);
    }
}

pub struct Tab {
    pub page: Page,
    base: String,
    is_phone: std::sync::atomic::AtomicBool,
}

const WAIT: Duration = Duration::from_secs(120);

impl Tab {
    /// Makes this tab a 375 × 812 phone screen.
    pub async fn phone(&self) {
        let metrics = SetDeviceMetricsOverrideParams::new(375, 812, 1.0, true);
        self.page.execute(metrics).await.expect("phone metrics");
        self.is_phone.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Opens a path of the service and waits for the page to load.
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.page.goto(url.as_str()).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.wait_loaded().await;
    }

    pub async fn el(&self, css: &str) -> Element {
        self.page.find_element(css).await.unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn xpath(&self, xpath: &str) -> Element {
        self.page.find_xpath(xpath).await.unwrap_or_else(|e| panic!("no element {xpath}: {e}"))
    }

    /// Focuses a field by clicking it and enters text the way an input method does (so Chinese
    /// text goes in as typed).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.el(css).await;
        field.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.page.execute(InsertTextParams::new(text)).await.expect("insert text");
    }

    /// Ticks the checkbox inside the label with this exact text (within `scope`, an XPath).
    pub async fn tick(&self, scope: &str, label: &str) {
        let xpath = format!("{scope}//label[normalize-space(.)='{label}']/input");
        self.xpath(&xpath).await.click().await.unwrap_or_else(|e| panic!("tick {label}: {e}"));
    }

    /// Puts a file into a file input, as choosing it in the dialog would.
    pub async fn choose_file(&self, css: &str, file: &Path) {
        let input = self.el(css).await;
        let params = SetFileInputFilesParams::builder()
            .file(std::fs::canonicalize(file).unwrap().to_string_lossy().into_owned())
            .backend_node_id(input.backend_node_id)
            .build()
            .unwrap();
        self.page.execute(params).await.expect("set file");
    }

    /// Clicks an element that submits or navigates, and waits until the next page has loaded.
    pub async fn click_through(&self, element: Element) {
        self.page.evaluate("window.__xgOldDocument = true").await.expect("mark document");
        element.click().await.expect("click");
        let start = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let fresh = self
                .page
                .evaluate(
                    "window.__xgOldDocument === undefined && document.readyState === 'complete'",
                )
                .await
                .ok()
                .and_then(|v| v.into_value::<bool>().ok());
            if fresh == Some(true) {
                return;
            }
            assert!(start.elapsed() < WAIT, "no new page after the click");
        }
    }

    /// Clicks the element matching `css` and waits for the next page.
    pub async fn submit(&self, css: &str) {
        let element = self.el(css).await;
        self.click_through(element).await;
    }

    async fn wait_loaded(&self) {
        let start = Instant::now();
        while self.eval_string("document.readyState").await.as_deref() != Some("complete") {
            assert!(start.elapsed() < WAIT, "page did not finish loading");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn eval_string(&self, js: &str) -> Option<String> {
        self.page.evaluate(js).await.ok().and_then(|v| v.into_value::<String>().ok())
    }

    /// What the page shows: the visible text of its body.
    pub async fn text(&self) -> String {
        self.eval_string("document.body ? document.body.innerText : ''").await.unwrap_or_default()
    }

    /// The value of a JavaScript expression that yields a string (e.g. a hidden field).
    pub async fn value(&self, js: &str) -> String {
        self.eval_string(js).await.unwrap_or_else(|| panic!("no string from {js}"))
    }

    pub async fn url(&self) -> String {
        self.page.url().await.ok().flatten().unwrap_or_default()
    }

    /// Waits (across reloads, e.g. a page that refreshes itself) until the page shows `needle`.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(start.elapsed() < WAIT * 3, "page never showed {needle:?}; it shows:\n{text}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Chooses an option of a `<select>` by value, as picking it from the list does.
    pub async fn select(&self, css: &str, value: &str) {
        let js = format!(
            "(() => {{ const s = document.querySelector({css:?}); s.focus(); s.value = {value:?};
                s.dispatchEvent(new Event('change', {{ bubbles: true }})); return s.value; }})()"
        );
        assert_eq!(self.value(&js).await, value, "option {value} of {css}");
    }

    /// Sets a field's value outright (date pickers; a textarea's prefilled text to replace).
    pub async fn set_value(&self, css: &str, value: &str) {
        let js = format!(
            "(() => {{ const f = document.querySelector({css:?}); f.focus(); f.value = {value:?};
                f.dispatchEvent(new Event('input', {{ bubbles: true }})); return f.value; }})()"
        );
        assert_eq!(self.value(&js).await, value, "value of {css}");
    }

    /// Every visible form field has a label: a `<label for>`, a wrapping `<label>`, or an
    /// `aria-label`.
    pub async fn assert_labelled(&self) {
        let js = "JSON.stringify([...document.querySelectorAll('input, select, textarea')]
            .filter(f => f.type !== 'hidden')
            .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label'))
            .map(f => f.name || f.id))";
        let unlabelled = self.value(js).await;
        assert_eq!(unlabelled, "[]", "fields without a label on {}", self.url().await);
    }

    /// Nothing on the page is wider than a 375-px phone screen (wide tables scroll inside
    /// their own box).
    pub async fn assert_fits_phone(&self) {
        let width = self.value("String(document.documentElement.scrollWidth)").await;
        assert!(width.parse::<u32>().unwrap() <= 375, "page is {width}px wide on a phone");
    }

    /// The cells' text of each body row of a table.
    pub async fn table_rows(&self, css: &str) -> Vec<Vec<String>> {
        let js = format!(
            "JSON.stringify([...document.querySelectorAll({:?})].map(r =>
                [...r.children].map(c => c.innerText.trim())))",
            format!("{css} tbody tr")
        );
        serde_json::from_str(&self.value(&js).await).unwrap()
    }

    /// Asserts the page shows `needle` and returns its text.
    pub async fn expect_text(&self, needle: &str) -> String {
        let text = self.text().await;
        assert!(
            text.contains(needle),
            "expected {needle:?} on {}; it shows:\n{text}",
            self.url().await
        );
        text
    }
}
