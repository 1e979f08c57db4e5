// One message as both pages show it: a list item styled by author, with who said it above the text.

export function bubble(message, who) {
  const item = document.createElement("li");
  item.className = [message.author, message.internal && "internal", message.kind === "note" && "note"]
    .filter(Boolean)
    .join(" ");
  item.dataset.seq = message.seq;
  item.dataset.author = message.author;
  item.dataset.kind = message.kind;
  if (who) {
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    item.append(label);
  }
  item.append(document.createTextNode(message.text));
  return item;
}
