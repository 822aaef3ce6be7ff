// Shows whether the live feed's WebSocket is connected (the dot next to "Live activity").
document.addEventListener("htmx:wsOpen", () => { document.body.dataset.live = "open"; });
document.addEventListener("htmx:wsClose", () => { document.body.dataset.live = "closed"; });
