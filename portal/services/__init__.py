"""Use cases: each public function is one transaction and ends with one commit."""
