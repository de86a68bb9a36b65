"""What a visitor's browser gets from a form: its hosted page (labels, required marks, the
consent text by its checkbox, the messages of a post that failed), the thank-you page, and the
script that renders the same form into another site's page and posts it with ``fetch``.

Everything a form or a post says is escaped (``html.escape``; JSON in the script with ``<``
escaped), so a form's labels or a visitor's values cannot add markup to the page.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any

from leads_shared.captcha import RESPONSE_FIELDS
from leads_shared.form_spam import HONEYPOT, TOKEN_FIELD

if TYPE_CHECKING:
    from leads_shared.models.forms import FormField, LeadForm

INPUT_TYPES = {"text": "text", "email": "email", "phone": "tel"}
AUTOCOMPLETE = {
    "first_name": "given-name",
    "last_name": "family-name",
    "email": "email",
    "phone": "tel",
    "company": "organization",
    "job_title": "organization-title",
}
WIDGETS = {
    "turnstile": ("https://challenges.cloudflare.com/turnstile/v0/api.js", "cf-turnstile"),
    "hcaptcha": ("https://js.hcaptcha.com/1/api.js", "h-captcha"),
    "recaptcha": ("https://www.google.com/recaptcha/api.js", "g-recaptcha"),
}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;
background:#f6f7f9;color:#1d2330;line-height:1.5}
main{max-width:32rem;margin:0 auto;background:#fff;padding:1.5rem;border-radius:8px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin-top:0}
.field{margin-bottom:1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],input[type=tel],select,textarea{width:100%;box-sizing:border-box;
padding:.6rem;font-size:1rem;border:1px solid #8a93a6;border-radius:4px}
input:focus,select:focus,textarea:focus,button:focus{outline:3px solid #2563eb;outline-offset:1px}
.consent label{display:flex;gap:.5rem;font-weight:400;align-items:flex-start}
.consent input{margin-top:.3rem;width:1.2rem;height:1.2rem}
.required{color:#b42318}
.error{color:#b42318;margin:.25rem 0 0}
.summary{border:2px solid #b42318;padding:.75rem;border-radius:4px;margin-bottom:1rem}
button{background:#1d4ed8;color:#fff;border:0;border-radius:4px;padding:.7rem 1.4rem;font-size:1rem;
cursor:pointer}
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
"""


def _required_mark(field: FormField) -> str:
    if not field.required:
        return ""
    return ' <span class="required" aria-hidden="true">*</span><span class="hp">(required)</span>'


def _field_html(field: FormField, value: str, messages: list[str], consent_text: str | None) -> str:
    name = escape(field.name)
    ident = f"f-{name}"
    described = f' aria-invalid="true" aria-describedby="{ident}-error"' if messages else ""
    required = " required" if field.required else ""
    error = f'<p class="error" id="{ident}-error">{escape(" ".join(messages))}</p>' if messages else ""
    if field.type == "checkbox":
        checked = " checked" if value else ""
        text = f'<p id="{ident}-text">{escape(consent_text or "")}</p>'
        described = f' aria-describedby="{ident}-text{f" {ident}-error" if messages else ""}"' + (
            ' aria-invalid="true"' if messages else ""
        )
        return (
            f'<div class="field consent">{text}<label for="{ident}"><input type="checkbox" id="{ident}" '
            f'name="{name}" value="true"{checked}{required}{described}>'
            f"<span>{escape(field.label)}{_required_mark(field)}</span></label>{error}</div>"
        )
    label = f'<label for="{ident}">{escape(field.label)}{_required_mark(field)}</label>'
    autocomplete = f' autocomplete="{AUTOCOMPLETE[field.name]}"' if field.name in AUTOCOMPLETE else ""
    if field.type == "textarea":
        control = (
            f'<textarea id="{ident}" name="{name}" rows="4"{required}{described}>{escape(value)}</textarea>'
        )
    elif field.type == "select":
        options = "".join(
            f'<option value="{escape(option)}"{" selected" if option == value else ""}>'
            f"{escape(option)}</option>"
            for option in field.options
        )
        control = (
            f'<select id="{ident}" name="{name}"{required}{described}><option value="">Choose…</option>'
            f"{options}</select>"
        )
    else:
        control = (
            f'<input type="{INPUT_TYPES[field.type]}" id="{ident}" name="{name}" value="{escape(value)}"'
            f"{autocomplete}{required}{described}>"
        )
    return f'<div class="field">{label}{control}{error}</div>'


def _page(title: str, body: str, head: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title><style>{STYLE}</style>{head}'
        f"</head><body><main>{body}</main></body></html>"
    )


def form_page(
    form: LeadForm,
    token: str,
    hidden: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problems: dict[str, list[str]] | None = None,
) -> str:
    """The hosted page: a plain HTML form posting to its own URL (no script needed). ``hidden``:
    attribution carried along (the referrer and UTM tags the page was opened with)."""
    values, problems = values or {}, problems or {}
    summary = ""
    if problems:
        items = "".join(
            f"<li>{escape(message)}</li>" for messages in problems.values() for message in messages
        )
        summary = (
            '<div class="summary" role="alert" tabindex="-1" id="problems">'
            f"<p><strong>Please correct the following:</strong></p><ul>{items}</ul></div>"
        )
    fields = "".join(
        _field_html(field, values.get(field.name, ""), problems.get(field.name, []), form.consent_text)
        for field in form.fields
    )
    carried = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in (hidden or {}).items()
    )
    head, widget = "", ""
    if form.captcha is not None:
        script, css_class = WIDGETS[form.captcha.provider]
        head = f'<script src="{script}" async defer></script>'
        widget = f'<div class="field {css_class}" data-sitekey="{escape(form.captcha.site_key)}"></div>'
    body = (
        f"<h1>{escape(form.name)}</h1>{summary}"
        '<form method="post" accept-charset="utf-8" novalidate>'
        f'<p>Fields marked <span class="required" aria-hidden="true">*</span> are required.</p>'
        f"{fields}{widget}"
        f'<div class="hp" aria-hidden="true"><label for="{HONEYPOT}">Leave this field empty</label>'
        f'<input type="text" id="{HONEYPOT}" name="{HONEYPOT}" tabindex="-1" autocomplete="off"></div>'
        f'<input type="hidden" name="{TOKEN_FIELD}" value="{escape(token)}">{carried}'
        '<button type="submit">Send</button></form>'
    )
    return _page(form.name, body, head)


def thank_you_page(form: LeadForm, message: str) -> str:
    return _page(form.name, f'<h1>{escape(form.name)}</h1><p role="status">{escape(message)}</p>')


def _script_json(value: Any) -> str:
    """JSON that is safe inside a script (no ``</script>``, no HTML comment openers)."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


EMBED_SCRIPT = r"""(function () {
  "use strict";
  var config = __CONFIG__;
  var script = document.currentScript;
  var postUrl = script.src.replace(/\/embed\.js(\?.*)?$/, "");
  var targetId = script.getAttribute("data-target");
  var target = targetId && document.getElementById(targetId);
  if (!target) { target = document.createElement("div"); script.parentNode.insertBefore(target, script); }
  var submissionId = (window.crypto && crypto.randomUUID) ? crypto.randomUUID().replace(/-/g, "")
    : String(Date.now()) + String(Math.random()).slice(2);
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }
  var form = el("form", {"class": "leads-form", "novalidate": ""});
  var heading = el("h2", {}, config.name);
  form.appendChild(heading);
  var status = el("div", {"role": "status", "aria-live": "polite", "class": "leads-form-status"});
  config.fields.forEach(function (f) {
    var id = "leads-" + config.key.slice(0, 8) + "-" + f.name;
    var wrap = el("div", {"class": "leads-form-field"});
    var label = el("label", {"for": id}, f.label);
    if (f.required) { label.appendChild(el("span", {"aria-hidden": "true", "class": "required"}, " *")); }
    var control;
    if (f.type === "textarea") { control = el("textarea", {"id": id, "name": f.name, "rows": "4"}); }
    else if (f.type === "select") {
      control = el("select", {"id": id, "name": f.name});
      control.appendChild(el("option", {"value": ""}, "Choose…"));
      f.options.forEach(function (o) { control.appendChild(el("option", {"value": o}, o)); });
    } else if (f.type === "checkbox") {
      control = el("input", {"id": id, "name": f.name, "type": "checkbox", "value": "true"});
    } else {
      var kind = {"email": "email", "phone": "tel"}[f.type] || "text";
      control = el("input", {"id": id, "name": f.name, "type": kind,
        "autocomplete": config.autocomplete[f.name] || "on"});
    }
    if (f.required) { control.setAttribute("required", ""); control.setAttribute("aria-required", "true"); }
    var error = el("p", {"class": "leads-form-error", "id": id + "-error"});
    if (f.type === "checkbox") {
      var text = el("p", {"id": id + "-text"}, config.consentText || "");
      control.setAttribute("aria-describedby", id + "-text");
      label.insertBefore(control, label.firstChild); wrap.appendChild(text); wrap.appendChild(label);
    }
    else { wrap.appendChild(label); wrap.appendChild(control); }
    wrap.appendChild(error);
    form.appendChild(wrap);
  });
  var hidden = "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden";
  var hp = el("div", {"aria-hidden": "true", "style": hidden});
  hp.appendChild(el("input", {"type": "text", "name": config.honeypot, "tabindex": "-1",
    "autocomplete": "off"}));
  form.appendChild(hp);
  var button = el("button", {"type": "submit"}, "Send");
  form.appendChild(button);
  form.appendChild(status);
  target.appendChild(form);

  function showErrors(errors) {
    form.querySelectorAll(".leads-form-error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
    Object.keys(errors || {}).forEach(function (name) {
      var control = form.elements[name];
      var p = control && document.getElementById(control.id + "-error");
      if (p) { p.textContent = errors[name].join(" "); control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", p.id); }
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {submission_id: submissionId, page_url: location.href, referrer: document.referrer};
    body[config.tokenField] = config.token;
    Array.prototype.forEach.call(form.elements, function (c) {
      if (!c.name) { return; }
      body[c.name] = c.type === "checkbox" ? c.checked : c.value;
    });
    button.disabled = true;
    status.textContent = "Sending…";
    var request = {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
    fetch(postUrl, request)
      .then(function (response) {
        return response.json().then(function (json) { return [response.status, json]; });
      })
      .then(function (result) {
        var code = result[0], json = result[1];
        button.disabled = false;
        if (code === 200 || code === 201) {
          if (json.redirect_url) { window.location.href = json.redirect_url; return; }
          var done = el("p", {"role": "status", "class": "leads-form-thanks"}, json.message);
          form.replaceWith(done);
          return;
        }
        status.textContent = json.message || "The form could not be sent.";
        if (code === 422) { showErrors(json.errors); }
      })
      .catch(function () {
        button.disabled = false;
        status.textContent = "The form could not be sent. Please retry.";
      });
  });
})();
"""


def embed_script(form: LeadForm, token: str) -> str:
    """The script: the form's definition and a fresh time token, and the code that renders it."""
    config = {
        "key": form.public_key,
        "name": form.name,
        "consentText": form.consent_text,
        "autocomplete": AUTOCOMPLETE,
        "fields": [field.model_dump() for field in form.fields],
        "token": token,
        "tokenField": TOKEN_FIELD,
        "honeypot": HONEYPOT,
        "captchaField": RESPONSE_FIELDS[form.captcha.provider] if form.captcha else None,
    }
    return EMBED_SCRIPT.replace("__CONFIG__", _script_json(config))
