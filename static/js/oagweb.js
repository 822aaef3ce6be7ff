// The dashboard's live feed: connection state, catching up on missed events, trimming.

function feedRefresh() {
  const feed = document.getElementById("activity-feed");
  if (feed) htmx.ajax("GET", feed.dataset.src, { target: feed, swap: "innerHTML" });
}

// The dot next to "Live activity" shows whether the WebSocket is connected. Events sent
// while it was closed are lost, so a reconnect fetches the feed again.
let wasOpen = false;
document.addEventListener("htmx:wsOpen", () => {
  document.body.dataset.live = "open";
  if (wasOpen) feedRefresh();
  wasOpen = true;
});
document.addEventListener("htmx:wsClose", () => { document.body.dataset.live = "closed"; });

// An update for a job the page does not show (its "created" event came before the socket
// opened) has no element to replace: fetch the feed, which has it.
document.addEventListener("htmx:oobErrorNoTarget", (event) => {
  if (event.detail.content && event.detail.content.id.startsWith("job-")) feedRefresh();
});

// Live additions go on top; keep the feed as long as the server renders it.
document.addEventListener("htmx:wsAfterMessage", () => {
  const feed = document.getElementById("activity-feed");
  if (!feed) return;
  const limit = Number(feed.dataset.limit || 20);
  feed.querySelectorAll("li.job").forEach((item, index) => { if (index >= limit) item.remove(); });
});
