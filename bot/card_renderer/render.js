// Render one Adaptive Card with the official renderer and the Teams host config, and report
// every problem the renderer finds. Called from Python over the Chrome DevTools Protocol.
"use strict";

(function () {
  function describe(AC, event) {
    return AC.ValidationEvent[event.event] + ": " + event.message;
  }

  // Returns {errors, warnings, frame: {x, y, width, height}, text}: warnings are the parse
  // events (unknown types, invalid values, unsupported properties), errors are validation
  // failures, exceptions, and a card that renders to nothing.
  window.klikbotRender = function (card, hostConfig) {
    const AC = window.AdaptiveCards;
    const result = { errors: [], warnings: [], frame: null, text: "" };
    const target = document.getElementById("card");
    target.replaceChildren();
    if (!AC) {
      result.errors.push("the adaptivecards renderer did not load (run `npm ci` in bot/card_renderer, or `klikbot cards render` once)");
      return result;
    }
    try {
      const adaptiveCard = new AC.AdaptiveCard();
      adaptiveCard.hostConfig = new AC.HostConfig(hostConfig);
      const context = new AC.SerializationContext();
      adaptiveCard.parse(card, context);
      for (let i = 0; i < context.eventCount; i++) {
        result.warnings.push(describe(AC, context.getEventAt(i)));
      }
      const validation = adaptiveCard.validateProperties();
      for (const event of validation.validationEvents) {
        result.errors.push(describe(AC, event));
      }
      const element = adaptiveCard.render();
      if (!element) {
        result.errors.push("render() returned no element");
      } else {
        target.appendChild(element);
      }
    } catch (error) {
      result.errors.push("exception: " + (error && error.stack ? error.stack : String(error)));
    }
    const frame = document.getElementById("frame").getBoundingClientRect();
    result.frame = { x: frame.x, y: frame.y, width: frame.width, height: frame.height };
    result.text = target.innerText || "";
    if (target.childElementCount === 0 || result.text.trim() === "") {
      result.errors.push("the rendered card is empty");
    }
    return result;
  };
})();
