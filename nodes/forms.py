from django import forms
from django.utils.translation import gettext_lazy as _

from .services import NodeError, parse_env


class AgentConfigForm(forms.Form):
    namespace = forms.CharField(label=_("Namespace of the agent pods"), max_length=253, initial="volcano-portal-agents")
    port = forms.IntegerField(label=_("Agent port"), min_value=1, max_value=65535, initial=8700)
    token = forms.CharField(label=_("Agent token"), required=False, widget=forms.PasswordInput(render_value=False),
                            help_text=_("The token of the agent Secret. Leave empty to keep the stored one."))


class RegisterAgentForm(forms.Form):
    name = forms.SlugField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("Agent URL"), max_length=500, assume_scheme="https",
                         help_text=_("For example http://10.0.0.5:8700 (a server outside Kubernetes)."))
    token = forms.CharField(label=_("Agent token"), min_length=16, widget=forms.PasswordInput(render_value=False))


class RunForm(forms.Form):
    command = forms.CharField(label=_("Command"), max_length=4000,
                              widget=forms.TextInput(attrs={"placeholder": "python train.py", "list": "recent-commands",
                                                            "autocomplete": "off", "class": "mono"}))
    cwd = forms.CharField(label=_("Working folder"), required=False, max_length=1000,
                          help_text=_("Inside the workspace; empty for the workspace itself."))
    env = forms.CharField(label=_("Environment"), required=False, widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
                          help_text=_("One NAME=value a line."))

    def clean_env(self):
        try:
            return parse_env(self.cleaned_data["env"])
        except NodeError as exc:
            raise forms.ValidationError(str(exc))


class RunFilterForm(forms.Form):
    node = forms.CharField(label=_("Node"), required=False)
    user = forms.CharField(label=_("User"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from .models import Run

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("any"))] + list(Run.State.choices)
