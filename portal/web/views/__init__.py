"""The pages of the portal: thin views that parse, authorise, call one service or selector, and render."""
